package providers

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/githost"
	"github.com/slipway-cd/slipway/internal/gitsource"
	"github.com/slipway-cd/slipway/internal/worker"
)

// ConnectionResolver turns a connection ARN and an action's
// FullRepositoryId into a git remote with credentials (gitsource.Resolver
// is one); its error wraps gitsource.ErrNoConnection for an unknown
// connection.
type ConnectionResolver interface {
	Resolve(ctx context.Context, arn, fullRepositoryID string) (*gitsource.Remote, error)
}

// Output artifact formats of git source actions.
const (
	formatCodeZip  = "CODE_ZIP"
	formatCloneRef = "CODEBUILD_CLONE_REF"
)

// CloneRefFile is the one file of a CODEBUILD_CLONE_REF output artifact
// (a zip file): a CloneRef as JSON.
const CloneRefFile = "slipway-clone-ref.json"

// CloneRef is what a CODEBUILD_CLONE_REF output artifact says: where to
// clone the repository from and which commit to check out. It holds no
// credentials; a consumer that clones uses the connection's.
type CloneRef struct {
	Provider         string `json:"provider"` // CodeStarSourceConnection
	ConnectionArn    string `json:"connectionArn"`
	FullRepositoryId string `json:"fullRepositoryId"`
	RemoteURL        string `json:"remoteUrl"`
	BranchName       string `json:"branchName"`
	Ref              string `json:"ref"` // refs/heads/<BranchName>
	CommitId         string `json:"commitId"`
}

// ConnectionSource runs Source/AWS/CodeStarSourceConnection/1 actions: it
// fetches the repository the connection names into the server's mirror of
// that remote, takes the commit pinned by the execution (engine.RevisionKey)
// or else the head of BranchName, and outputs the commit's tree as a zip
// file (OutputArtifactFormat CODE_ZIP, the default) or a CloneRef
// (CODEBUILD_CLONE_REF), with the output variables CommitId, BranchName,
// AuthorDate, CommitMessage, FullRepositoryName and ConnectionArn. A
// pinned commit the mirror has already is used without fetching.
type ConnectionSource struct{ Deps }

// Type returns Source/AWS/CodeStarSourceConnection/1.
func (s *ConnectionSource) Type() cpapi.ActionTypeId {
	return awsType(cpapi.ActionCategorySource, gitsource.Provider)
}

// Run fetches, archives and reports the commit.
func (s *ConnectionSource) Run(ctx context.Context, j *worker.Job) (*worker.Result, error) {
	cfg := config(j)
	arn, repo, branch := cfg["ConnectionArn"], cfg["FullRepositoryId"], cfg["BranchName"]
	format := cfg["OutputArtifactFormat"]
	if format == "" {
		format = formatCodeZip
	}
	if format != formatCodeZip && format != formatCloneRef {
		return nil, &worker.Failure{Type: cpapi.FailureTypeConfigurationError,
			Message: "OutputArtifactFormat " + format + " is not CODE_ZIP or CODEBUILD_CLONE_REF"}
	}
	remote, err := s.Connections.Resolve(ctx, arn, repo)
	if errors.Is(err, gitsource.ErrNoConnection) || errors.Is(err, gitsource.ErrRepositoryID) {
		return nil, &worker.Failure{Type: cpapi.FailureTypeConfigurationError, Message: err.Error()}
	}
	if err != nil {
		return nil, err
	}
	pinned := cfg[engine.RevisionKey]
	dir := s.Mirrors.Path(remote.URL)
	if pinned == "" || !s.Mirrors.HasCommit(ctx, dir, pinned) {
		if dir, err = s.Mirrors.Sync(ctx, remote); err != nil {
			return nil, worker.Failf("%v", err)
		}
	}
	refs, err := s.Mirrors.Refs(ctx, dir)
	if err != nil {
		return nil, err
	}
	commit := pinned
	if commit == "" {
		if commit = refs["refs/heads/"+branch]; commit == "" {
			return nil, &worker.Failure{Type: cpapi.FailureTypeRevisionUnavailable,
				Message: "branch " + branch + " of " + remote.URL + " does not exist or has no commits"}
		}
	}
	if commit, err = s.Mirrors.ResolveCommit(ctx, dir, commit); err != nil {
		return nil, &worker.Failure{Type: cpapi.FailureTypeRevisionUnavailable, Message: err.Error() + " " + remote.URL}
	}
	info, err := githost.CommitInfo(ctx, dir, commit)
	if err != nil {
		return nil, &worker.Failure{Type: cpapi.FailureTypeRevisionUnavailable, Message: "commit " + commit + " of " + remote.URL + ": " + err.Error()}
	}
	if pinned != "" {
		branch = pinnedBranch(refs, branch, info.ID)
	}
	bucket, key, err := outputLocation(j, 0)
	if err != nil {
		return nil, err
	}
	write := func(w io.Writer) error { return githost.Archive(ctx, dir, info.ID, w) }
	if format == formatCloneRef {
		ref := CloneRef{Provider: gitsource.Provider, ConnectionArn: remote.ConnectionARN, FullRepositoryId: repo,
			RemoteURL: remote.URL, BranchName: branch, Ref: "refs/heads/" + branch, CommitId: info.ID}
		write = func(w io.Writer) error { return writeCloneRef(w, ref) }
	}
	if _, err := putArtifact(ctx, s.Artifacts, bucket, key, write); err != nil {
		return nil, err
	}
	summary := firstLine(info.Message)
	return &worker.Result{
		Summary: summary,
		Revision: &cpapi.CurrentRevision{Revision: info.ID, ChangeIdentifier: info.ID, RevisionSummary: summary,
			Created: awsproto.NewTime(info.AuthorDate)},
		OutputVariables: map[string]string{
			"CommitId": info.ID, "CommitMessage": info.Message, "AuthorDate": info.AuthorDate.UTC().Format("2006-01-02T15:04:05Z"),
			"BranchName": branch, "FullRepositoryName": repo, "ConnectionArn": remote.ConnectionARN,
		},
	}, nil
}

// writeCloneRef writes a zip file holding ref as CloneRefFile.
func writeCloneRef(w io.Writer, ref CloneRef) error {
	zw := zip.NewWriter(w)
	f, err := zw.Create(CloneRefFile)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ref); err != nil {
		return err
	}
	return zw.Close()
}
