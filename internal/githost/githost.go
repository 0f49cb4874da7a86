// Package githost hosts git repositories: bare repositories under a root
// directory, served over git's smart HTTP protocol by git-http-backend,
// with HTTP basic authentication by Slipway access keys (key ID as the user
// name, secret as the password) and a callback after every push.
package githost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// ErrNotFound means the repository does not exist.
var ErrNotFound = errors.New("repository does not exist")

// ErrExists means a repository of that name exists already.
var ErrExists = errors.New("repository already exists")

// Authenticator checks HTTP basic credentials.
type Authenticator interface {
	// CheckBasic reports whether user/password are valid credentials.
	CheckBasic(ctx context.Context, user, password string) (bool, error)
}

// RefUpdate is one ref changed by a push; Old or New is empty when the ref
// was created or deleted.
type RefUpdate struct {
	Ref string
	Old string
	New string
}

// Host serves the repositories under Root. Set the fields before use.
type Host struct {
	Root   string
	Auth   Authenticator
	OnPush func(repo string, updates []RefUpdate) // called after a push changed refs
	Logger *slog.Logger

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// nameRE is CodeCommit's repository name rule: letters, digits, ".", "_"
// and "-", at most 100 characters, and not ending in ".git".
var nameRE = regexp.MustCompile(`^[\w.-]{1,100}$`)

// ValidName reports why name cannot be a repository name ("" if it can).
func ValidName(name string) string {
	switch {
	case !nameRE.MatchString(name):
		return "a repository name has 1 to 100 letters, digits, '.', '_' or '-'"
	case strings.HasSuffix(name, ".git"):
		return "a repository name must not end in .git"
	case name == "." || name == "..":
		return "a repository name must not be . or .."
	}
	return ""
}

// Path returns the directory of a repository.
func (h *Host) Path(name string) string { return filepath.Join(h.Root, name+".git") }

func (h *Host) log() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// Create makes an empty bare repository whose default branch is main.
func (h *Host) Create(ctx context.Context, name string) error {
	if why := ValidName(name); why != "" {
		return fmt.Errorf("repository %q: %s", name, why)
	}
	dir := h.Path(name)
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("repository %q: %w", name, ErrExists)
	}
	if err := os.MkdirAll(h.Root, 0o700); err != nil {
		return fmt.Errorf("create repository root: %w", err)
	}
	tmp, err := os.MkdirTemp(h.Root, ".new-")
	if err != nil {
		return fmt.Errorf("create repository %q: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	if _, err := git(ctx, "", "init", "--quiet", "--bare", "--initial-branch=main", tmp); err != nil {
		return fmt.Errorf("create repository %q: %w", name, err)
	}
	if _, err := git(ctx, tmp, "config", "http.receivepack", "true"); err != nil {
		return fmt.Errorf("create repository %q: %w", name, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("create repository %q: %w", name, err)
	}
	return nil
}

// Exists reports whether the repository exists.
func (h *Host) Exists(name string) bool {
	if ValidName(name) != "" {
		return false
	}
	st, err := os.Stat(h.Path(name))
	return err == nil && st.IsDir()
}

// List returns the names of the hosted repositories.
func (h *Host) List() ([]string, error) {
	entries, err := os.ReadDir(h.Root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".git"); ok && e.IsDir() && ValidName(n) == "" {
			names = append(names, n)
		}
	}
	return names, nil
}

// Delete removes a repository.
func (h *Host) Delete(name string) error {
	if !h.Exists(name) {
		return fmt.Errorf("repository %q: %w", name, ErrNotFound)
	}
	if err := os.RemoveAll(h.Path(name)); err != nil {
		return fmt.Errorf("delete repository %q: %w", name, err)
	}
	return nil
}

// Refs returns the repository's refs and the commits they point at.
func (h *Host) Refs(ctx context.Context, name string) (map[string]string, error) {
	if !h.Exists(name) {
		return nil, fmt.Errorf("repository %q: %w", name, ErrNotFound)
	}
	return Refs(ctx, h.Path(name))
}

// Refs returns the refs of the git repository at dir.
func Refs(ctx context.Context, dir string) (map[string]string, error) {
	out, err := git(ctx, dir, "for-each-ref", "--format=%(objectname) %(refname)")
	if err != nil {
		return nil, err
	}
	refs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if obj, ref, ok := strings.Cut(line, " "); ok {
			refs[ref] = obj
		}
	}
	return refs, nil
}

func (h *Host) repoLock(name string) *sync.Mutex {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.locks == nil {
		h.locks = map[string]*sync.Mutex{}
	}
	if h.locks[name] == nil {
		h.locks[name] = &sync.Mutex{}
	}
	return h.locks[name]
}

// ServeHTTP serves /git/<name>[.git]/... with git-http-backend. It expects
// the request path to start with /git/.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/git/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	name, sub, _ := strings.Cut(rest, "/")
	name = strings.TrimSuffix(name, ".git")
	user, pass, hasAuth := r.BasicAuth()
	if !hasAuth {
		w.Header().Set("WWW-Authenticate", `Basic realm="Slipway git"`)
		http.Error(w, "authentication required: use your Slipway access key ID as the user name and its secret as the password", http.StatusUnauthorized)
		return
	}
	valid, err := h.Auth.CheckBasic(r.Context(), user, pass)
	if err != nil {
		h.log().Error("git auth", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if !valid {
		h.log().Info("git auth refused", "access_key_id", user, "repo", name)
		w.Header().Set("WWW-Authenticate", `Basic realm="Slipway git"`)
		http.Error(w, "invalid credentials", http.StatusUnauthorized)
		return
	}
	if !h.Exists(name) {
		http.Error(w, fmt.Sprintf("repository %q does not exist", name), http.StatusNotFound)
		return
	}
	push := r.Method == http.MethodPost && sub == "git-receive-pack"
	var before map[string]string
	if push {
		lock := h.repoLock(name)
		lock.Lock()
		defer lock.Unlock()
		if before, err = Refs(r.Context(), h.Path(name)); err != nil {
			h.log().Error("git refs", "repo", name, "err", err)
		}
	}
	backend := &cgi.Handler{
		Path: gitPath(),
		Args: []string{"http-backend"},
		Env: []string{
			"GIT_PROJECT_ROOT=" + h.Root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=" + user,
		},
		Stderr: io.Discard,
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + name + ".git/" + sub
	backend.ServeHTTP(w, r2)
	if push && h.OnPush != nil {
		after, err := Refs(context.WithoutCancel(r.Context()), h.Path(name))
		if err != nil {
			h.log().Error("git refs", "repo", name, "err", err)
			return
		}
		if ups := diffRefs(before, after); len(ups) > 0 {
			h.log().Info("git push", "repo", name, "by", user, "refs", len(ups))
			h.OnPush(name, ups)
		}
	}
}

func diffRefs(before, after map[string]string) []RefUpdate {
	var ups []RefUpdate
	for ref, n := range after {
		if before[ref] != n {
			ups = append(ups, RefUpdate{Ref: ref, Old: before[ref], New: n})
		}
	}
	for ref, o := range before {
		if _, ok := after[ref]; !ok {
			ups = append(ups, RefUpdate{Ref: ref, Old: o})
		}
	}
	return ups
}

// Commit describes a commit.
type Commit struct {
	ID         string
	Author     string
	AuthorDate time.Time
	Message    string
}

// CommitInfo describes a commit of the git repository at dir.
func CommitInfo(ctx context.Context, dir, commit string) (*Commit, error) {
	out, err := git(ctx, dir, "show", "-s", "--format=%H%x00%an <%ae>%x00%aI%x00%B", commit, "--")
	if err != nil {
		return nil, err
	}
	parts := strings.SplitN(out, "\x00", 4)
	if len(parts) != 4 {
		return nil, fmt.Errorf("git show %s: unexpected output", commit)
	}
	date, err := time.Parse(time.RFC3339, parts[2])
	if err != nil {
		return nil, fmt.Errorf("git show %s: author date %q: %w", commit, parts[2], err)
	}
	return &Commit{ID: parts[0], Author: parts[1], AuthorDate: date, Message: strings.TrimSpace(parts[3])}, nil
}

// Archive writes the tree of a commit of the git repository at dir as a
// zip file to w.
func Archive(ctx context.Context, dir, commit string, w io.Writer) error {
	cmd := exec.CommandContext(ctx, gitPath(), "archive", "--format=zip", commit)
	cmd.Dir = dir
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git archive %s: %w: %s", commit, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func gitPath() string {
	if p, err := exec.LookPath("git"); err == nil {
		return p
	}
	return "/usr/bin/git"
}

// git runs a git command in dir and returns its standard output.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, gitPath(), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
