package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway-cd/slipway/internal/store"
)

// Several servers may run on one database; they must then also share what
// lives on disk (hosted git repositories and, without S3, artifacts) and
// their artifact store. Each server registers itself in the store's
// servers table, keeps a heartbeat there, and at start checks that every
// other live server's marker file is visible in its own shared directory.

const (
	// heartbeatInterval is how often a server refreshes its registration.
	heartbeatInterval = 5 * time.Second
	// staleAfter is how old a heartbeat may be before its server counts as
	// gone: its registration is ignored, then deleted.
	staleAfter = time.Minute
	// serversDirName is the directory under the shared dir that holds one
	// marker file per server.
	serversDirName = "servers"
	// serverIDFile, under the data dir, keeps the server's ID across
	// restarts.
	serverIDFile = "server-id"
	// idWait is how long a starting server watches a live registration of
	// its own ID from another host for a heartbeat: two heartbeats and a
	// margin.
	idWait = 2*heartbeatInterval + time.Second
)

// serverRegistry is this server's registration.
type serverRegistry struct {
	store  store.ServerQueries
	self   store.RegisteredServer
	idPath string // <data dir>/server-id
	logger *slog.Logger
}

// registerServer writes this server's marker to <shared dir>/servers/<id>,
// registers the server and checks the other live registrations: it fails,
// leaving nothing registered, when another server does not share the
// shared dir or the artifact store, or runs with this server's ID (a
// copied data dir; wait is how long its registration is watched for a
// heartbeat, normally sleepFor(idWait)).
func registerServer(ctx context.Context, st store.ServerQueries, cfg *Config, wait func(context.Context) error) (*serverRegistry, error) {
	id, err := loadOrCreateServerID(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	hostname, err := os.Hostname()
	if err != nil {
		hostname = "unknown"
	}
	token, err := randomHex(16)
	if err != nil {
		return nil, fmt.Errorf("server marker: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	r := &serverRegistry{store: st, logger: cfg.Logger, idPath: filepath.Join(cfg.DataDir, serverIDFile), self: store.RegisteredServer{
		ID: id, Hostname: hostname, PID: os.Getpid(), URL: configuredURL(cfg), ArtifactStore: artifactStoreName(cfg),
		SharedDir: cfg.SharedDir, Marker: token, Started: now, Heartbeat: now,
	}}
	if err := r.checkID(ctx, wait); err != nil {
		return nil, err
	}
	marker := markerPath(cfg.SharedDir, id)
	if err := writeMarker(marker, token); err != nil {
		return nil, fmt.Errorf("write server marker to the shared dir: %w", err)
	}
	// The marker is in place before the row, so a server that sees the
	// row may expect the marker; and of two servers starting at once, at
	// least the later one to register sees the other.
	if err := st.PutServer(ctx, &r.self); err != nil {
		os.Remove(marker)
		return nil, fmt.Errorf("register server: %w", err)
	}
	others, err := st.ListServers(ctx)
	if err != nil {
		err = fmt.Errorf("list registered servers: %w", err)
	} else {
		err = checkPeers(&r.self, readMarkers(cfg.SharedDir, others), now)
	}
	if err != nil {
		r.leave(ctx)
		os.Remove(marker)
		return nil, err
	}
	live := 0
	for _, o := range others {
		if o.ID != id && now.Sub(o.Heartbeat) <= staleAfter {
			live++
		}
	}
	cfg.Logger.Info("registered server", "server_id", id, "shared_dir", cfg.SharedDir, "other_live_servers", live)
	return r, nil
}

// checkID fails when another live server, on another host, is registered
// with this server's ID: it watches that registration while wait runs and
// fails if its heartbeat moves meanwhile.
func (r *serverRegistry) checkID(ctx context.Context, wait func(context.Context) error) error {
	before, err := r.find(ctx)
	if err != nil || !maybeInUse(&r.self, before) {
		return err
	}
	r.logger.Info("this server's ID is registered from another host; waiting for a heartbeat of that server",
		"server_id", r.self.ID, "host", before.Hostname)
	if err := wait(ctx); err != nil {
		return err
	}
	after, err := r.find(ctx)
	if err != nil {
		return err
	}
	return idInUse(&r.self, before, after, r.idPath)
}

// sleepFor returns a wait of d that ends early with its context.
func sleepFor(d time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// find returns the registration with this server's ID, or nil.
func (r *serverRegistry) find(ctx context.Context) (*store.RegisteredServer, error) {
	all, err := r.store.ListServers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list registered servers: %w", err)
	}
	for _, s := range all {
		if s.ID == r.self.ID {
			return s, nil
		}
	}
	return nil, nil
}

// maybeInUse reports whether reg, the registration of self's ID found at
// start, may belong to another running server: it comes from another host
// and its heartbeat is live. (On the same host it is this server's own,
// from before a restart.)
func maybeInUse(self, reg *store.RegisteredServer) bool {
	return reg != nil && reg.Hostname != self.Hostname && self.Started.Sub(reg.Heartbeat) <= staleAfter
}

// idInUse decides, from the registration of self's ID found at start
// (before) and after watching it, whether another server runs with the
// ID: its heartbeat moved, or another registration replaced it.
func idInUse(self, before, after *store.RegisteredServer, idPath string) error {
	if !maybeInUse(self, before) || after == nil || (after.Marker == before.Marker && !after.Heartbeat.After(before.Heartbeat)) {
		return nil
	}
	return fmt.Errorf("refusing to start: server ID %s (from %s) is in use by a running server on host %s (pid %d, %s): "+
		"this data dir is a copy of that server's. Delete %s here (a new ID is made at the next start); "+
		"of another server's data dir, copy only master.key", self.ID, idPath, after.Hostname, after.PID, after.URL, idPath)
}

// peerView is another registered server and what this server sees of its
// marker.
type peerView struct {
	*store.RegisteredServer
	markerPath string // where its marker is in this server's shared dir
	seen       string // the content found there; "" when missing
}

// readMarkers reads, in sharedDir, the marker of every registered server.
func readMarkers(sharedDir string, servers []*store.RegisteredServer) []peerView {
	views := make([]peerView, 0, len(servers))
	for _, s := range servers {
		p := markerPath(sharedDir, s.ID)
		data, _ := os.ReadFile(p) // missing or unreadable: not shared
		views = append(views, peerView{RegisteredServer: s, markerPath: p, seen: strings.TrimSpace(string(data))})
	}
	return views
}

// checkPeers decides whether self may run next to the registered servers:
// every other server whose heartbeat is at most staleAfter old must use
// the same artifact store, and its marker must be visible, with its token,
// in self's shared dir. Stale registrations are ignored.
func checkPeers(self *store.RegisteredServer, peers []peerView, now time.Time) error {
	var problems []error
	for _, p := range peers {
		if p.ID == self.ID || now.Sub(p.Heartbeat) > staleAfter {
			continue
		}
		who := fmt.Sprintf("server %s (host %s, pid %d, %s)", p.ID, p.Hostname, p.PID, p.URL)
		gone := fmt.Sprintf("if server %s is gone, start this one again after its registration expires (%s after its last heartbeat at %s)",
			p.ID, staleAfter, p.Heartbeat.Format(time.RFC3339))
		if p.ArtifactStore != self.ArtifactStore {
			problems = append(problems, fmt.Errorf("%s runs on this database with artifact store %q, but this server %s has %q: "+
				"every server of one database must use the same artifact store (the same --artifact-s3-endpoint and --artifact-s3-bucket, "+
				"or the filesystem under one shared --shared-dir); %s", who, p.ArtifactStore, self.ID, self.ArtifactStore, gone))
			continue
		}
		if p.seen != p.Marker {
			found := "is missing"
			if p.seen != "" {
				found = "holds another token (a copy, or a directory another server wrote)"
			}
			problems = append(problems, fmt.Errorf("%s runs on this database with shared dir %s, but its marker %s %s in this server's (%s) shared dir %s: "+
				"the two servers do not share one directory for hosted git repositories and artifacts. "+
				"Put --shared-dir on a filesystem both servers mount (NFS, CephFS, ...) and pass each server its path there, "+
				"or %s", who, p.SharedDir, p.markerPath, found, self.ID, self.SharedDir, gone))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("refusing to start: %w", errors.Join(problems...))
	}
	return nil
}

// run refreshes the registration every heartbeatInterval until ctx ends,
// re-registering if it was removed (after a pause longer than staleAfter),
// and removes the registrations of servers that are gone. url is where the
// server serves, now that it listens.
func (r *serverRegistry) run(ctx context.Context, url string) {
	if url != "" {
		r.self.URL = url
	}
	beat := func(put bool) {
		now := time.Now().UTC().Truncate(time.Millisecond)
		err := store.ErrNotFound
		if !put {
			err = r.store.TouchServer(ctx, r.self.ID, r.self.Marker, now)
		}
		if errors.Is(err, store.ErrNotFound) {
			// Expired (this server was paused for a minute), or taken
			// over by a server started from a copy of this data dir.
			var other *store.RegisteredServer
			if other, err = r.find(ctx); err == nil && other != nil && other.Marker != r.self.Marker {
				r.logger.Error("another server registered with this server's ID: one data dir is a copy of the other's; "+
					"stop one, delete its server-id file and start it again",
					"server_id", r.self.ID, "other_host", other.Hostname, "other_pid", other.PID, "other_url", other.URL)
			} else if err == nil {
				r.self.Heartbeat = now
				err = r.store.PutServer(ctx, &r.self)
			}
		}
		if err != nil && ctx.Err() == nil {
			r.logger.Warn("server heartbeat", "err", err)
		}
		if n, err := r.store.DeleteServersBefore(ctx, now.Add(-staleAfter)); err != nil && ctx.Err() == nil {
			r.logger.Warn("remove stale server registrations", "err", err)
		} else if n > 0 {
			r.logger.Info("removed stale server registrations", "count", n)
		}
	}
	beat(true)
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			beat(false)
		}
	}
}

// leave removes the registration (the marker file stays: it is rewritten
// at the next start, and a server that checks it meanwhile ignores the
// registration it belonged to).
func (r *serverRegistry) leave(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.store.DeleteServer(ctx, r.self.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		r.logger.Warn("unregister server", "err", err)
	}
}

// loadOrCreateServerID returns the server's ID from <dataDir>/server-id,
// creating it at first start: the host name and a random suffix.
func loadOrCreateServerID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, serverIDFile)
	data, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(data)); validServerID(id) {
			return id, nil
		}
		return "", fmt.Errorf("server ID file %s is damaged: delete it and a new ID is made", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read server ID: %w", err)
	}
	host, _ := os.Hostname()
	suffix, err := randomHex(4)
	if err != nil {
		return "", fmt.Errorf("make server ID: %w", err)
	}
	id := serverIDPrefix(host) + suffix
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, fs.ErrExist) { // another process made it first
		return loadOrCreateServerID(dataDir)
	}
	if err != nil {
		return "", fmt.Errorf("write server ID: %w", err)
	}
	_, err = f.WriteString(id + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("write server ID: %w", err)
	}
	return id, nil
}

// serverIDPrefix is host reduced to at most 32 of [a-z0-9-], then a dash;
// "" when nothing is left.
func serverIDPrefix(host string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(host) {
		if b.Len() == 32 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r == '.' || r == '_':
			b.WriteByte('-')
		}
	}
	p := strings.Trim(b.String(), "-")
	if p == "" {
		return ""
	}
	return p + "-"
}

// validServerID reports whether id can name a marker file.
func validServerID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func markerPath(sharedDir, id string) string {
	return filepath.Join(sharedDir, serversDirName, id)
}

// writeMarker writes token to path through a temporary file and a rename,
// so a reader sees the old or the new token, never a part.
func writeMarker(path, token string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.WriteString(token + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// artifactStoreName names the configured artifact store for comparison
// between servers.
func artifactStoreName(cfg *Config) string {
	if cfg.ArtifactS3 == nil {
		return "filesystem"
	}
	return "s3 " + strings.TrimRight(cfg.ArtifactS3.Endpoint, "/") + " " + cfg.ArtifactBucket
}

// configuredURL is the server's URL before it listens: its public URL,
// else its listen address.
func configuredURL(cfg *Config) string {
	if cfg.Engine.ConsoleURL != "" {
		return strings.TrimRight(cfg.Engine.ConsoleURL, "/")
	}
	return "http://" + cfg.Listen
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
