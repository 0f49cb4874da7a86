package gitsource

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Mirrors keeps one bare mirror repository per remote URL under Dir,
// named by a hash of the URL. A mirror holds the remote's branches and
// tags (refs/heads/* and refs/tags/*, pruned); its configuration holds the
// URL but never credentials, which every fetch passes again.
type Mirrors struct {
	Dir string
	Git Runner // nil: the git binary

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// Path returns the mirror directory of a remote URL.
func (m *Mirrors) Path(url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(m.Dir, hex.EncodeToString(sum[:12])+".git")
}

func (m *Mirrors) lock(dir string) *sync.Mutex {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks == nil {
		m.locks = map[string]*sync.Mutex{}
	}
	if m.locks[dir] == nil {
		m.locks[dir] = &sync.Mutex{}
	}
	return m.locks[dir]
}

// Sync creates the remote's mirror if needed, fetches the remote's
// branches and tags into it, and returns its directory. Syncs of one
// mirror run one at a time.
func (m *Mirrors) Sync(ctx context.Context, r *Remote) (string, error) {
	dir := m.Path(r.URL)
	l := m.lock(dir)
	l.Lock()
	defer l.Unlock()
	run := runner(m.Git)
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); errors.Is(err, os.ErrNotExist) {
		if err := m.create(ctx, run, r.URL, dir); err != nil {
			return "", err
		}
	}
	if _, err := run.Run(ctx, remoteCommand(r, dir, "fetch", "--quiet", "--prune", "--no-write-fetch-head", "origin")); err != nil {
		return "", fmt.Errorf("fetch %s: %w", r.URL, err)
	}
	return dir, nil
}

// create makes an empty mirror of url at dir (through a temporary
// directory, so a half-made mirror is never used).
func (m *Mirrors) create(ctx context.Context, run Runner, url, dir string) error {
	if err := os.MkdirAll(m.Dir, 0o700); err != nil {
		return fmt.Errorf("create the mirrors directory: %w", err)
	}
	tmp, err := os.MkdirTemp(m.Dir, ".new-")
	if err != nil {
		return fmt.Errorf("create a mirror of %s: %w", url, err)
	}
	defer os.RemoveAll(tmp)
	for _, args := range [][]string{
		{"init", "--quiet", "--bare", tmp},
		{"-C", tmp, "config", "remote.origin.url", url},
		{"-C", tmp, "config", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"},
		{"-C", tmp, "config", "--add", "remote.origin.fetch", "+refs/tags/*:refs/tags/*"},
		{"-C", tmp, "config", "gc.autoDetach", "false"},
	} {
		if _, err := run.Run(ctx, localCommand("", args...)); err != nil {
			return fmt.Errorf("create a mirror of %s: %w", url, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("create a mirror of %s: %w", url, err)
	}
	return nil
}

// HasCommit reports whether the mirror at dir has the commit.
func (m *Mirrors) HasCommit(ctx context.Context, dir, commit string) bool {
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		return false
	}
	_, err := runner(m.Git).Run(ctx, localCommand(dir, "cat-file", "-e", commit+"^{commit}"))
	return err == nil
}

// Refs returns the branches and tags of the mirror at dir.
func (m *Mirrors) Refs(ctx context.Context, dir string) (map[string]string, error) {
	out, err := runner(m.Git).Run(ctx, localCommand(dir, "for-each-ref", "--format=%(objectname)\t%(refname)", "refs/heads", "refs/tags"))
	if err != nil {
		return nil, err
	}
	return parseRefs(out), nil
}

// ResolveCommit returns the full ID of the commit that rev (a commit ID,
// a ref, a tag) names in the mirror at dir.
func (m *Mirrors) ResolveCommit(ctx context.Context, dir, rev string) (string, error) {
	out, err := runner(m.Git).Run(ctx, localCommand(dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}"))
	if err != nil {
		return "", fmt.Errorf("%s is not a commit of the repository", rev)
	}
	return strings.TrimSpace(string(out)), nil
}
