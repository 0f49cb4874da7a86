package demo

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// app is the sample web app the demo pushes on its first start.
//
//go:embed app
var app embed.FS

// App returns the sample web app's files (paths relative to its root).
func App() fs.FS {
	sub, err := fs.Sub(app, "app")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	return sub
}

// WriteApp writes the sample web app into dir; shell scripts are
// executable.
func WriteApp(dir string) error {
	return fs.WalkDir(App(), ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(App(), path)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(path, ".sh") {
			mode = 0o755
		}
		return os.WriteFile(dst, data, mode)
	})
}

// git pushes to the hosted repository with the real git binary,
// authenticating with the admin key in an HTTP header passed through the
// environment (never on a command line, never in a file).
type git struct {
	dir           string // where temporary working copies go
	url           string // the clone URL
	keyID, secret string
}

// env is the environment of every git command.
func (g *git) env() []string {
	auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(g.keyID+":"+g.secret))
	cfg := [][2]string{
		{"http.extraHeader", auth},
		{"commit.gpgSign", "false"},
		{"init.defaultBranch", Branch},
		{"core.hooksPath", os.DevNull},
	}
	env := append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_COUNT="+strconv.Itoa(len(cfg)),
		"GIT_AUTHOR_NAME=Slipway demo", "GIT_AUTHOR_EMAIL=demo@slipway.invalid",
		"GIT_COMMITTER_NAME=Slipway demo", "GIT_COMMITTER_EMAIL=demo@slipway.invalid")
	for i, kv := range cfg {
		env = append(env, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", i, kv[0]), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i, kv[1]))
	}
	return env
}

// run runs git in dir and returns its standard output.
func (g *git) run(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = g.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return "", fmt.Errorf("the demo needs git: %w", err)
		}
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// pushRelease pushes the next release of the app: the sample app as
// release 1 into an empty repository, otherwise the branch's head with
// RELEASE incremented. It returns the new commit and release.
func (g *git) pushRelease(ctx context.Context) (commit, release string, err error) {
	tmp, err := os.MkdirTemp(g.dir, "push-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	heads, err := g.run(ctx, tmp, "ls-remote", "--heads", g.url, Branch)
	if err != nil {
		return "", "", err
	}
	work := filepath.Join(tmp, RepositoryName)
	if strings.TrimSpace(heads) == "" {
		if _, err := g.run(ctx, tmp, "init", "--quiet", work); err != nil {
			return "", "", err
		}
		if err := WriteApp(work); err != nil {
			return "", "", fmt.Errorf("write the sample app: %w", err)
		}
		release = "1"
	} else {
		if _, err := g.run(ctx, tmp, "clone", "--quiet", "--branch", Branch, "--single-branch", g.url, work); err != nil {
			return "", "", err
		}
		old, _ := os.ReadFile(filepath.Join(work, "RELEASE"))
		release = NextRelease(strings.TrimSpace(string(old)))
		if err := os.WriteFile(filepath.Join(work, "RELEASE"), []byte(release+"\n"), 0o644); err != nil {
			return "", "", err
		}
	}
	for _, args := range [][]string{
		{"add", "--all"},
		{"commit", "--quiet", "--message", "demo-app release " + release},
		{"push", "--quiet", g.url, "HEAD:refs/heads/" + Branch},
	} {
		if _, err := g.run(ctx, work, args...); err != nil {
			return "", "", err
		}
	}
	out, err := g.run(ctx, work, "rev-parse", "HEAD")
	if err != nil {
		return "", "", err
	}
	return strings.TrimSpace(out), release, nil
}

// NextRelease returns the release after old: the next number when old
// is one (or ends in one after a '.'), else old with ".1" appended; "1"
// for none.
func NextRelease(old string) string {
	if old == "" {
		return "1"
	}
	prefix, last := "", old
	if i := strings.LastIndexByte(old, '.'); i >= 0 {
		prefix, last = old[:i+1], old[i+1:]
	}
	if n, err := strconv.ParseUint(last, 10, 32); err == nil {
		return prefix + strconv.FormatUint(n+1, 10)
	}
	return old + ".1"
}
