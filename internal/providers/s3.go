package providers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/store"
	"github.com/slipway-cd/slipway/internal/worker"
)

// S3 actions work on the buckets of the configured artifact store (the
// filesystem store's buckets, or prefixes of the one bucket of an
// S3-compatible store), not on Amazon S3.

// S3Source runs Source/AWS/S3 actions: the object S3Bucket/S3ObjectKey is
// copied as it is (normally a zip file) to the output artifact.
//
// The artifact stores keep only the current version of an object, so an
// execution pinned to a version (engine.RevisionKey, set by the S3Poller
// or by StartPipelineExecution's sourceRevisions) copies the current
// object even when a newer version has replaced the pinned one since; the
// revision it reports is the one it copied.
type S3Source struct{ Deps }

// Type returns Source/AWS/S3/1.
func (s *S3Source) Type() cpapi.ActionTypeId { return awsType(cpapi.ActionCategorySource, "S3") }

// Run copies the object and reports its version with the S3 source output
// variables (ETag, ObjectKey, VersionId).
func (s *S3Source) Run(ctx context.Context, j *worker.Job) (*worker.Result, error) {
	cfg := config(j)
	bucket, key := cfg["S3Bucket"], cfg["S3ObjectKey"]
	r, info, err := s.Artifacts.Get(ctx, bucket, key)
	switch {
	case errors.Is(err, artifact.ErrNotFound):
		return nil, &worker.Failure{Type: cpapi.FailureTypeRevisionUnavailable,
			Message: fmt.Sprintf("object %s does not exist in bucket %s of the artifact store; upload it first", key, bucket)}
	case errors.Is(err, artifact.ErrInvalidName):
		return nil, &worker.Failure{Type: cpapi.FailureTypeConfigurationError, Message: err.Error()}
	case err != nil:
		return nil, fmt.Errorf("read source object %s/%s: %w", bucket, key, err)
	}
	defer r.Close()
	outBucket, outKey, err := outputLocation(j, 0)
	if err != nil {
		return nil, err
	}
	if _, err := s.Artifacts.Put(ctx, outBucket, outKey, r); err != nil {
		return nil, fmt.Errorf("store artifact %s/%s: %w", outBucket, outKey, err)
	}
	rev := objectRevision(info)
	summary := key + " version " + info.VersionID // also the revision summary
	if info.VersionID == "" {
		summary = key + " ETag " + info.ETag
	}
	if pinned := cfg[engine.RevisionKey]; pinned != "" && pinned != info.VersionID && pinned != info.ETag {
		summary += fmt.Sprintf(" (the execution asked for %s, which the artifact store no longer holds: it keeps only the current version)", pinned)
	}
	var created *awsproto.Time
	if !info.Modified.IsZero() {
		created = awsproto.NewTime(info.Modified)
	}
	return &worker.Result{
		Summary:         summary,
		Revision:        &cpapi.CurrentRevision{Revision: rev, ChangeIdentifier: info.ETag, Created: created},
		OutputVariables: map[string]string{"ETag": info.ETag, "ObjectKey": key, "VersionId": info.VersionID},
	}, nil
}

// objectRevision is an object's revision: its version ID, or its ETag in a
// store without versions.
func objectRevision(info artifact.ObjectInfo) string {
	if info.VersionID != "" {
		return info.VersionID
	}
	return info.ETag
}

// S3Deploy runs Deploy/AWS/S3 actions: the input artifact goes into
// BucketName of the artifact store, unzipped under the ObjectKey prefix
// (Extract true) or as one object ObjectKey (Extract false). Objects
// already there are replaced, others left alone. KMSEncryptionKeyARN,
// CannedACL and CacheControl have no effect.
type S3Deploy struct{ Deps }

// Type returns Deploy/AWS/S3/1.
func (s *S3Deploy) Type() cpapi.ActionTypeId { return awsType(cpapi.ActionCategoryDeploy, "S3") }

// Run deploys the input artifact.
func (s *S3Deploy) Run(ctx context.Context, j *worker.Job) (*worker.Result, error) {
	cfg := config(j)
	bucket, key := cfg["BucketName"], strings.Trim(cfg["ObjectKey"], "/")
	if len(j.Data.InputArtifacts) == 0 || j.Data.InputArtifacts[0].Location == nil || j.Data.InputArtifacts[0].Location.S3Location == nil {
		return nil, worker.Failf("the action has no input artifact to deploy")
	}
	in := j.Data.InputArtifacts[0]
	loc := in.Location.S3Location
	r, _, err := s.Artifacts.Get(ctx, loc.BucketName, loc.ObjectKey)
	if errors.Is(err, artifact.ErrNotFound) {
		return nil, worker.Failf("input artifact %s is missing from the artifact store (%s/%s)", in.Name, loc.BucketName, loc.ObjectKey)
	}
	if err != nil {
		return nil, fmt.Errorf("read input artifact %s: %w", in.Name, err)
	}
	defer r.Close()
	if !strings.EqualFold(cfg["Extract"], "true") {
		if key == "" {
			return nil, &worker.Failure{Type: cpapi.FailureTypeConfigurationError, Message: "Extract is false but ObjectKey is empty; set ObjectKey to the key of the uploaded object"}
		}
		if _, err := s.Artifacts.Put(ctx, bucket, key, r); err != nil {
			return nil, deployError(err, bucket, key)
		}
		fmt.Fprintf(j.LogOutput(), "Uploaded input artifact %s to %s/%s\n", in.Name, bucket, key)
		return &worker.Result{Summary: fmt.Sprintf("Uploaded %s to %s/%s", in.Name, bucket, key)}, nil
	}

	dir, err := newScratchDir(s.WorkDir)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	zf, err := os.CreateTemp(dir, "artifact-*.zip")
	if err != nil {
		return nil, err
	}
	defer zf.Close()
	n, err := io.Copy(zf, r)
	if err != nil {
		return nil, fmt.Errorf("download input artifact %s: %w", in.Name, err)
	}
	root := filepath.Join(dir, "files")
	if err := artifact.Extract(zf, n, root, artifact.Limits{}); err != nil {
		return nil, worker.Failf("input artifact %s is not a zip file that can be extracted: %v", in.Name, err)
	}
	count := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		st, err := os.Stat(p) // follows symlinks, which Extract keeps inside root
		if err != nil || !st.Mode().IsRegular() {
			return nil // a symlink to a directory: its files are walked where they are
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		objKey := filepath.ToSlash(rel)
		if key != "" {
			objKey = key + "/" + objKey
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := s.Artifacts.Put(ctx, bucket, objKey, f); err != nil {
			return deployError(err, bucket, objKey)
		}
		fmt.Fprintf(j.LogOutput(), "Uploaded %s to %s/%s\n", filepath.ToSlash(rel), bucket, objKey)
		count++
		return nil
	})
	if err != nil {
		return nil, err
	}
	where := bucket
	if key != "" {
		where += "/" + key + "/"
	}
	return &worker.Result{Summary: fmt.Sprintf("Extracted %d files of %s to %s", count, in.Name, where)}, nil
}

// deployError makes a naming error a configuration error.
func deployError(err error, bucket, key string) error {
	if errors.Is(err, artifact.ErrInvalidName) {
		return &worker.Failure{Type: cpapi.FailureTypeConfigurationError, Message: err.Error()}
	}
	return fmt.Errorf("upload %s/%s: %w", bucket, key, err)
}

// newScratchDir makes a fresh directory under workDir (the system's
// temporary directory when empty).
func newScratchDir(workDir string) (string, error) {
	if workDir == "" {
		workDir = os.TempDir()
	}
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return "", fmt.Errorf("create the work directory: %w", err)
	}
	dir, err := os.MkdirTemp(workDir, "job-")
	if err != nil {
		return "", fmt.Errorf("create a working directory: %w", err)
	}
	return dir, nil
}

// DefaultS3PollInterval is how often an S3Poller looks at the watched
// objects unless told otherwise.
const DefaultS3PollInterval = 60 * time.Second

// S3Poller is the change detection of S3 source actions: every Interval
// it heads each object that an S3 source action with PollForSourceChanges
// not "false" watches, and when the object's revision (version ID, else
// ETag) differs from the one it saw last, it starts the pipelines that
// watch it, pinned to the new revision (trigger PollForSourceChanges).
// The first observation of an object only records it; an object that is
// missing is recorded as such, so its first upload starts the pipelines.
//
// What it saw is kept in the store (ObjectPollState), so a restart misses
// nothing that changed meanwhile. Starts are idempotent (a client token
// made of the object, its revision and modification time), so servers
// sharing a database, or a crash between starting and recording, never
// start a pipeline twice for one change.
type S3Poller struct {
	Store     store.Queries
	Artifacts artifact.Store
	// Start starts an execution of the named pipeline (engine.StartExecution).
	Start    func(ctx context.Context, pipeline string, p engine.StartParams) (string, error)
	Interval time.Duration // default DefaultS3PollInterval
	Logger   *slog.Logger
}

// Run polls until ctx ends.
func (p *S3Poller) Run(ctx context.Context) error {
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultS3PollInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p.Poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// watcher is a source action that watches an object.
type watcher struct{ pipeline, action string }

// objectRef is a watched object.
type objectRef struct{ bucket, key string }

// Poll looks at every watched object once.
func (p *S3Poller) Poll(ctx context.Context) {
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	watched, err := p.watched(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("s3 poller: list watched objects", "err", err)
		}
		return
	}
	states, err := p.Store.ListObjectPollStates(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("s3 poller: list poll states", "err", err)
		}
		return
	}
	for _, st := range states { // forget objects nothing watches any more
		if _, ok := watched[objectRef{st.Bucket, st.Key}]; !ok {
			if err := p.Store.DeleteObjectPollState(ctx, st.Bucket, st.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
				log.Warn("s3 poller: forget object", "bucket", st.Bucket, "key", st.Key, "err", err)
			}
		}
	}
	for obj, ws := range watched {
		if ctx.Err() != nil {
			return
		}
		if err := p.check(ctx, obj, ws, log); err != nil && ctx.Err() == nil {
			log.Error("s3 poller: check object", "bucket", obj.bucket, "key", obj.key, "err", err)
		}
	}
}

// watched maps each object that S3 source actions poll to its watchers.
func (p *S3Poller) watched(ctx context.Context) (map[objectRef][]watcher, error) {
	pipes, err := p.Store.ListPipelines(ctx, store.Page{})
	if err != nil {
		return nil, err
	}
	out := map[objectRef][]watcher{}
	for _, pipe := range pipes {
		var d cpapi.PipelineDeclaration
		if err := json.Unmarshal(pipe.Declaration, &d); err != nil {
			return nil, fmt.Errorf("decode pipeline %q: %w", pipe.Name, err)
		}
		if len(d.Stages) == 0 {
			continue
		}
		for _, a := range d.Stages[0].Actions { // source actions are all in the first stage
			id := a.ActionTypeId
			if id == nil || id.Category != cpapi.ActionCategorySource || id.Owner != cpapi.ActionOwnerAws || id.Provider != "S3" ||
				strings.EqualFold(a.Configuration["PollForSourceChanges"], "false") {
				continue
			}
			obj := objectRef{a.Configuration["S3Bucket"], a.Configuration["S3ObjectKey"]}
			out[obj] = append(out[obj], watcher{pipe.Name, a.Name})
		}
	}
	return out, nil
}

// check heads one object and starts its watchers when it changed.
func (p *S3Poller) check(ctx context.Context, obj objectRef, ws []watcher, log *slog.Logger) error {
	info, err := p.Artifacts.Head(ctx, obj.bucket, obj.key)
	switch {
	case errors.Is(err, artifact.ErrNotFound):
		info = artifact.ObjectInfo{}
	case errors.Is(err, artifact.ErrInvalidName):
		return nil // the pipeline's source action fails with the reason
	case err != nil:
		return err
	}
	now := &store.ObjectPollState{Bucket: obj.bucket, Key: obj.key, ETag: info.ETag, VersionID: info.VersionID, Modified: info.Modified}
	last, err := p.Store.GetObjectPollState(ctx, obj.bucket, obj.key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.Info("s3 poller: watching object", "bucket", obj.bucket, "key", obj.key, "revision", objectRevision(info))
		return p.Store.PutObjectPollState(ctx, now)
	case err != nil:
		return err
	}
	rev := objectRevision(info)
	if rev == objectRevision(artifact.ObjectInfo{ETag: last.ETag, VersionID: last.VersionID}) &&
		info.Modified.Truncate(time.Millisecond).Equal(last.Modified) {
		return nil
	}
	if rev != "" { // a deleted object starts nothing; its next upload does
		sum := sha256.Sum256([]byte(obj.bucket + "\x00" + obj.key + "\x00" + rev + "\x00" + info.Modified.UTC().Format(time.RFC3339Nano)))
		token := "s3-" + hex.EncodeToString(sum[:16])
		byPipeline := map[string][]string{}
		var order []string
		for _, w := range ws {
			if byPipeline[w.pipeline] == nil {
				order = append(order, w.pipeline)
			}
			byPipeline[w.pipeline] = append(byPipeline[w.pipeline], w.action)
		}
		for _, pipe := range order {
			params := engine.StartParams{TriggerType: cpapi.TriggerTypePollForSourceChanges, ClientToken: token,
				TriggerDetail: "new revision " + rev + " of " + obj.bucket + "/" + obj.key}
			for _, a := range byPipeline[pipe] {
				params.SourceRevisions = append(params.SourceRevisions, cpapi.SourceRevisionOverride{
					ActionName: a, RevisionType: cpapi.SourceRevisionTypeS3ObjectVersionId, RevisionValue: rev})
			}
			execID, err := p.Start(ctx, pipe, params)
			if err != nil {
				// The change is not retried: a pipeline that cannot start
				// (deleted meanwhile, a variable without a default) would
				// fail the same way at every poll.
				log.Error("s3 poller: start execution", "pipeline", pipe, "bucket", obj.bucket, "key", obj.key, "revision", rev, "err", err)
				continue
			}
			log.Info("s3 poller: object changed; started an execution", "pipeline", pipe, "execution", execID,
				"bucket", obj.bucket, "key", obj.key, "revision", rev)
		}
	}
	return p.Store.PutObjectPollState(ctx, now)
}
