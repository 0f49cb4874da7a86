package githost

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type fixedAuth struct{ user, pass string }

func (a fixedAuth) CheckBasic(_ context.Context, u, p string) (bool, error) {
	return u == a.user && p == a.pass, nil
}

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestPushCloneAndArchive(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var pushes [][]RefUpdate
	h := &Host{Root: t.TempDir(), Auth: fixedAuth{"AKIATEST", "s3cret"}, OnPush: func(repo string, ups []RefUpdate) {
		mu.Lock()
		defer mu.Unlock()
		if repo != "app" {
			t.Errorf("push to %q", repo)
		}
		pushes = append(pushes, ups)
	}}
	ctx := context.Background()
	if err := h.Create(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if err := h.Create(ctx, "app"); err == nil {
		t.Error("creating a repository twice succeeded")
	}
	for _, bad := range []string{"", "a b", "x.git", "..", strings.Repeat("a", 101), "a/b"} {
		if err := h.Create(ctx, bad); err == nil {
			t.Errorf("Create(%q) succeeded", bad)
		}
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("AKIATEST", "s3cret")
	remote := u.String() + "/git/app"

	work := t.TempDir()
	run(t, work, "init", "--quiet", "--initial-branch=main")
	os.WriteFile(filepath.Join(work, "README.md"), []byte("hello\n"), 0o644)
	os.MkdirAll(filepath.Join(work, "src"), 0o755)
	os.WriteFile(filepath.Join(work, "src", "main.sh"), []byte("echo hi\n"), 0o755)
	run(t, work, "add", ".")
	run(t, work, "commit", "--quiet", "-m", "first commit")
	commit := run(t, work, "rev-parse", "HEAD")
	run(t, work, "push", "--quiet", remote, "main")

	mu.Lock()
	if len(pushes) != 1 || len(pushes[0]) != 1 || pushes[0][0] != (RefUpdate{Ref: "refs/heads/main", New: commit}) {
		t.Errorf("pushes = %+v, want one update of refs/heads/main to %s", pushes, commit)
	}
	mu.Unlock()

	refs, err := h.Refs(ctx, "app")
	if err != nil || refs["refs/heads/main"] != commit {
		t.Errorf("Refs = %v, %v", refs, err)
	}
	info, err := CommitInfo(ctx, h.Path("app"), commit)
	if err != nil || info.Message != "first commit" || info.Author != "Dev <dev@example.com>" {
		t.Errorf("CommitInfo = %+v, %v", info, err)
	}
	var buf bytes.Buffer
	if err := Archive(ctx, h.Path("app"), commit, &buf); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, f := range zr.File {
		files[f.Name] = true
	}
	if !files["README.md"] || !files["src/main.sh"] {
		t.Errorf("archive has %v", files)
	}

	clone := filepath.Join(t.TempDir(), "clone")
	run(t, filepath.Dir(clone), "clone", "--quiet", remote, clone)
	if b, err := os.ReadFile(filepath.Join(clone, "README.md")); err != nil || string(b) != "hello\n" {
		t.Errorf("cloned README = %q, %v", b, err)
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	h := &Host{Root: t.TempDir(), Auth: fixedAuth{"AKIATEST", "s3cret"}}
	if err := h.Create(context.Background(), "app"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, creds := range []*url.Userinfo{nil, url.UserPassword("AKIATEST", "wrong"), url.UserPassword("nobody", "s3cret")} {
		u, _ := url.Parse(srv.URL)
		u.User = creds
		cmd := exec.Command("git", "ls-remote", u.String()+"/git/app")
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/false")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("ls-remote with %v succeeded: %s", creds, out)
		}
	}
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("AKIATEST", "s3cret")
	cmd := exec.Command("git", "ls-remote", u.String()+"/git/missing")
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("ls-remote of a missing repository succeeded: %s", out)
	}
}
