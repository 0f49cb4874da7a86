package providers

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/githost"
	"github.com/slipway-cd/slipway/internal/gitsource"
	"github.com/slipway-cd/slipway/internal/worker"
)

const testConnARN = "arn:aws:codeconnections:us-east-1:123456789012:connection/0e6a5b2c"

// gitCmd runs the git binary in dir as a developer would.
func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commitFile commits one file in the work tree and pushes main to origin;
// it returns the commit ID.
func commitFile(t *testing.T, work, name, content, message string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, work, "add", name)
	gitCmd(t, work, "commit", "--quiet", "-m", message)
	gitCmd(t, work, "push", "--quiet", "origin", "HEAD:refs/heads/main")
	return gitCmd(t, work, "rev-parse", "HEAD")
}

// bareRepo makes a bare repository at dir and a work tree pushing to it.
func bareRepo(t *testing.T, dir string) (work string) {
	t.Helper()
	gitCmd(t, "", "init", "--quiet", "--bare", "--initial-branch=main", dir)
	work = t.TempDir()
	gitCmd(t, work, "init", "--quiet", "--initial-branch=main")
	gitCmd(t, work, "remote", "add", "origin", dir)
	return work
}

// recorder is a gitsource.Runner that records every command.
type recorder struct {
	mu   sync.Mutex
	cmds []gitsource.Command
}

func (r *recorder) Run(ctx context.Context, c *gitsource.Command) ([]byte, error) {
	r.mu.Lock()
	r.cmds = append(r.cmds, *c)
	r.mu.Unlock()
	return gitsource.ExecRunner{}.Run(ctx, c)
}

func (r *recorder) count(sub string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.cmds {
		if slices.Contains(c.Args, sub) {
			n++
		}
	}
	return n
}

type fixedResolver struct{ remote *gitsource.Remote }

func (f fixedResolver) Resolve(_ context.Context, arn, repo string) (*gitsource.Remote, error) {
	if arn != testConnARN {
		return nil, fmt.Errorf("connection %s: %w", arn, gitsource.ErrNoConnection)
	}
	r := *f.remote
	r.ConnectionARN = arn
	return &r, nil
}

func sourceJob(config map[string]string) *worker.Job {
	return &worker.Job{ID: "job-1", Data: &cpapi.JobData{
		ActionConfiguration: &cpapi.ActionConfiguration{Configuration: config},
		OutputArtifacts: []cpapi.Artifact{{Name: "Src", Location: &cpapi.ArtifactLocation{Type: "S3",
			S3Location: &cpapi.S3ArtifactLocation{BucketName: "bucket", ObjectKey: "p/Src/out.zip"}}}},
	}}
}

// zipFiles reads the output artifact as a zip: file name -> content.
func zipFiles(t *testing.T, st artifact.Store) map[string]string {
	t.Helper()
	rc, _, err := st.Get(context.Background(), "bucket", "p/Src/out.zip")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("output artifact is not a zip: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		c, _ := io.ReadAll(r)
		r.Close()
		out[f.Name] = string(c)
	}
	return out
}

func newConnectionSource(t *testing.T, remote *gitsource.Remote, run gitsource.Runner, logger *slog.Logger) (*ConnectionSource, artifact.Store) {
	t.Helper()
	st, err := artifact.NewFSStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &ConnectionSource{Deps: Deps{Artifacts: st, Logger: logger, Connections: fixedResolver{remote},
		Mirrors: &gitsource.Mirrors{Dir: filepath.Join(t.TempDir(), "mirrors"), Git: run}}}, st
}

func wantFailure(t *testing.T, err error, typ, contains string) {
	t.Helper()
	var f *worker.Failure
	if !errors.As(err, &f) {
		t.Fatalf("error = %v, want a %s failure", err, typ)
	}
	if f.Type != typ || !strings.Contains(f.Message, contains) {
		t.Errorf("failure = %s %q, want %s containing %q", f.Type, f.Message, typ, contains)
	}
}

// TestConnectionSourceLocal reads a local bare repository (a path remote):
// the branch head as a zip with the output variables, a pinned older
// commit, the clone reference format, and the failures.
func TestConnectionSourceLocal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	remoteDir := filepath.Join(t.TempDir(), "app.git")
	work := bareRepo(t, remoteDir)
	first := commitFile(t, work, "app.txt", "v1\n", "First version\n\nWith a body.")
	rec := &recorder{}
	src, st := newConnectionSource(t, &gitsource.Remote{URL: remoteDir}, rec, nil)
	cfg := map[string]string{"ConnectionArn": testConnARN, "FullRepositoryId": "team/app", "BranchName": "main"}

	res, err := src.Run(ctx, sourceJob(cfg))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := zipFiles(t, st); got["app.txt"] != "v1\n" || len(got) != 1 {
		t.Errorf("artifact files = %v", got)
	}
	v := res.OutputVariables
	if v["CommitId"] != first || v["BranchName"] != "main" || v["FullRepositoryName"] != "team/app" ||
		v["ConnectionArn"] != testConnARN || v["CommitMessage"] != "First version\n\nWith a body." || v["AuthorDate"] == "" {
		t.Errorf("output variables = %v", v)
	}
	if res.Revision == nil || res.Revision.Revision != first || res.Revision.ChangeIdentifier != first ||
		res.Revision.RevisionSummary != "First version" || res.Revision.Created == nil {
		t.Errorf("revision = %+v", res.Revision)
	}

	// A new commit: the head moves; a pinned revision keeps the old one
	// and, present in the mirror already, needs no fetch.
	second := commitFile(t, work, "app.txt", "v2\n", "Second version")
	res, err = src.Run(ctx, sourceJob(cfg))
	if err != nil || res.OutputVariables["CommitId"] != second {
		t.Fatalf("Run after a push: %v, %v", res, err)
	}
	fetches := rec.count("fetch")
	pinned := map[string]string{engine.RevisionKey: first}
	for k, v := range cfg {
		pinned[k] = v
	}
	res, err = src.Run(ctx, sourceJob(pinned))
	if err != nil || res.OutputVariables["CommitId"] != first || zipFiles(t, st)["app.txt"] != "v1\n" {
		t.Fatalf("Run pinned: %v, %v", res, err)
	}
	if rec.count("fetch") != fetches {
		t.Errorf("a pinned commit the mirror has was fetched again")
	}

	// CODEBUILD_CLONE_REF: a zip with the reference.
	ref := map[string]string{"OutputArtifactFormat": "CODEBUILD_CLONE_REF"}
	for k, v := range cfg {
		ref[k] = v
	}
	if _, err := src.Run(ctx, sourceJob(ref)); err != nil {
		t.Fatalf("Run CODEBUILD_CLONE_REF: %v", err)
	}
	var cr CloneRef
	if err := json.Unmarshal([]byte(zipFiles(t, st)[CloneRefFile]), &cr); err != nil {
		t.Fatalf("clone reference: %v", err)
	}
	if cr != (CloneRef{Provider: "CodeStarSourceConnection", ConnectionArn: testConnARN, FullRepositoryId: "team/app",
		RemoteURL: remoteDir, BranchName: "main", Ref: "refs/heads/main", CommitId: second}) {
		t.Errorf("clone reference = %+v", cr)
	}

	// Failures.
	bad := map[string]string{"ConnectionArn": testConnARN, "FullRepositoryId": "team/app", "BranchName": "nope"}
	_, err = src.Run(ctx, sourceJob(bad))
	wantFailure(t, err, cpapi.FailureTypeRevisionUnavailable, "branch nope")
	bad = map[string]string{"ConnectionArn": testConnARN, "BranchName": "main", engine.RevisionKey: strings.Repeat("a", 40)}
	_, err = src.Run(ctx, sourceJob(bad))
	wantFailure(t, err, cpapi.FailureTypeRevisionUnavailable, "is not a commit")
	bad = map[string]string{"ConnectionArn": testConnARN + "x", "BranchName": "main"}
	_, err = src.Run(ctx, sourceJob(bad))
	wantFailure(t, err, cpapi.FailureTypeConfigurationError, "no such connection")
	bad = map[string]string{"ConnectionArn": testConnARN, "BranchName": "main", "OutputArtifactFormat": "TARBALL"}
	_, err = src.Run(ctx, sourceJob(bad))
	wantFailure(t, err, cpapi.FailureTypeConfigurationError, "TARBALL")
}

type fixedAuth struct{ user, pass string }

func (a fixedAuth) CheckBasic(_ context.Context, u, p string) (bool, error) {
	return u == a.user && p == a.pass, nil
}

// TestConnectionSourceHTTPCredentials reads a repository over git's smart
// HTTP protocol from a server that requires basic credentials (githost):
// the connection's credentials reach git through the credential helper,
// and the password appears in no command's arguments, no log line, no
// error message and no file of the mirror.
func TestConnectionSourceHTTPCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const user, secret = "ci-bot", "tok3n-Sup3r-S3cret"
	host := &githost.Host{Root: t.TempDir(), Auth: fixedAuth{user, secret}}
	if err := host.Create(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	gitCmd(t, work, "init", "--quiet", "--initial-branch=main")
	gitCmd(t, work, "remote", "add", "origin", host.Path("app"))
	commit := commitFile(t, work, "README", "hello\n", "Initial commit")
	ts := httptest.NewServer(host)
	t.Cleanup(ts.Close)

	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	host.Logger = logger
	rec := &recorder{}
	remote := &gitsource.Remote{URL: ts.URL + "/git/app", Username: user, Password: secret}
	src, st := newConnectionSource(t, remote, rec, logger)
	cfg := map[string]string{"ConnectionArn": testConnARN, "FullRepositoryId": "app", "BranchName": "main"}
	res, err := src.Run(ctx, sourceJob(cfg))
	if err != nil {
		t.Fatalf("Run with credentials: %v", err)
	}
	if res.OutputVariables["CommitId"] != commit || zipFiles(t, st)["README"] != "hello\n" {
		t.Errorf("Run = %v, files %v", res.OutputVariables, zipFiles(t, st))
	}

	// The remote as a string or a log value shows the URL only.
	logger.Info("remote", "remote", remote)
	if s := fmt.Sprintf("%v %s %+v %#v", remote, remote, remote, remote); strings.Contains(s, secret) {
		t.Errorf("the remote prints its secret: %s", s)
	}

	// Wrong credentials fail the job without showing them.
	wrong, _ := newConnectionSource(t, &gitsource.Remote{URL: ts.URL + "/git/app", Username: user, Password: "wrong-" + secret}, rec, logger)
	_, err = wrong.Run(ctx, sourceJob(cfg))
	if err == nil {
		t.Fatal("Run with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the failure shows the password: %v", err)
	}

	rec.mu.Lock()
	for _, c := range rec.cmds {
		if strings.Contains(strings.Join(c.Args, " "), secret) {
			t.Errorf("git command line holds the password: %q", c.Args)
		}
	}
	rec.mu.Unlock()
	logMu.Lock()
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the logs hold the password:\n%s", logs.String())
	}
	logMu.Unlock()
	if rec.count("fetch") == 0 {
		t.Error("no fetch went through the runner")
	}
	err = filepath.WalkDir(src.Mirrors.Dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("mirror file %s holds the password", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
