package providers

import (
	"context"
	"io"
	"slices"
	"strings"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/githost"
	"github.com/slipway-cd/slipway/internal/worker"
)

// CodeCommitSource runs Source/AWS/CodeCommit actions on repositories that
// Slipway hosts: the tree of the branch head (or of the pinned revision)
// becomes the output artifact, as a zip file.
type CodeCommitSource struct{ Deps }

// Type returns Source/AWS/CodeCommit/1.
func (s *CodeCommitSource) Type() cpapi.ActionTypeId {
	return awsType(cpapi.ActionCategorySource, "CodeCommit")
}

// Run archives the commit and reports it with the CodeCommit output
// variables.
func (s *CodeCommitSource) Run(ctx context.Context, j *worker.Job) (*worker.Result, error) {
	cfg := config(j)
	repo, branch := cfg["RepositoryName"], cfg["BranchName"]
	if !s.Repos.Exists(repo) {
		return nil, &worker.Failure{Type: cpapi.FailureTypeConfigurationError,
			Message: "repository " + repo + " does not exist on this Slipway server; create it with `slipway repo create " + repo + "`"}
	}
	refs, err := s.Repos.Refs(ctx, repo)
	if err != nil {
		return nil, err
	}
	commit, pinned := cfg[engine.RevisionKey], cfg[engine.RevisionKey] != ""
	if !pinned {
		if commit = refs["refs/heads/"+branch]; commit == "" {
			return nil, &worker.Failure{Type: cpapi.FailureTypeRevisionUnavailable,
				Message: "branch " + branch + " of repository " + repo + " has no commits; push to it first"}
		}
	}
	info, err := githost.CommitInfo(ctx, s.Repos.Path(repo), commit)
	if err != nil {
		return nil, &worker.Failure{Type: cpapi.FailureTypeRevisionUnavailable, Message: "commit " + commit + " of repository " + repo + ": " + err.Error()}
	}
	if pinned {
		branch = pinnedBranch(refs, branch, info.ID)
	}
	bucket, key, err := outputLocation(j, 0)
	if err != nil {
		return nil, err
	}
	if _, err := putArtifact(ctx, s.Artifacts, bucket, key, func(w io.Writer) error {
		return githost.Archive(ctx, s.Repos.Path(repo), info.ID, w)
	}); err != nil {
		return nil, err
	}
	summary := firstLine(info.Message)
	return &worker.Result{
		Summary: summary,
		Revision: &cpapi.CurrentRevision{Revision: info.ID, ChangeIdentifier: info.ID, RevisionSummary: summary,
			Created: awsproto.NewTime(info.AuthorDate)},
		OutputVariables: map[string]string{
			"CommitId": info.ID, "CommitMessage": info.Message, "AuthorDate": info.AuthorDate.UTC().Format("2006-01-02T15:04:05Z"),
			"BranchName": branch, "RepositoryName": repo, "AuthorDisplayName": info.Author,
		},
	}, nil
}

// pinnedBranch is the branch a pinned commit came from, for the BranchName
// output variable: the configured branch when its head is the commit (or
// no branch's head is), else the first branch, by name, whose head is the
// commit (a V2 trigger may start the pipeline for a push to another
// branch).
func pinnedBranch(refs map[string]string, configured, commit string) string {
	if refs["refs/heads/"+configured] == commit {
		return configured
	}
	var names []string
	for ref, c := range refs {
		if name, ok := strings.CutPrefix(ref, "refs/heads/"); ok && c == commit {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return configured
	}
	return slices.Min(names)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
