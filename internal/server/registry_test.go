package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/store"
)

func TestCheckPeers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	self := &store.RegisteredServer{ID: "web1-aa", Hostname: "web1", PID: 10, URL: "http://10.0.0.1:7700",
		ArtifactStore: "filesystem", SharedDir: "/srv/shared", Marker: "tok-self", Heartbeat: now}
	peer := func(id, arts, marker string, age time.Duration) *store.RegisteredServer {
		return &store.RegisteredServer{ID: id, Hostname: "web2", PID: 20, URL: "http://10.0.0.2:7700", ArtifactStore: arts,
			SharedDir: "/mnt/slipway", Marker: marker, Heartbeat: now.Add(-age)}
	}
	view := func(s *store.RegisteredServer, seen string) peerView {
		return peerView{RegisteredServer: s, markerPath: "/srv/shared/servers/" + s.ID, seen: seen}
	}
	for _, tc := range []struct {
		name  string
		peers []peerView
		want  []string // substrings of the error; none: no error
	}{
		{name: "alone", peers: nil},
		{name: "only itself, marker of an earlier start", peers: []peerView{view(self, "old")}},
		{name: "peer sharing the dir", peers: []peerView{view(peer("web2-bb", "filesystem", "tok", time.Second), "tok")}},
		{name: "stale peer not sharing", peers: []peerView{view(peer("web2-bb", "filesystem", "tok", time.Minute+time.Millisecond), "")}},
		{name: "peer at the staleness bound", peers: []peerView{view(peer("web2-bb", "filesystem", "tok", time.Minute), "")},
			want: []string{"web2-bb"}},
		{name: "marker missing", peers: []peerView{view(peer("web2-bb", "filesystem", "tok", 0), "")},
			want: []string{"refusing to start", "server web2-bb (host web2, pid 20, http://10.0.0.2:7700)", "shared dir /mnt/slipway",
				"/srv/shared/servers/web2-bb is missing", "this server's (web1-aa) shared dir /srv/shared",
				"Put --shared-dir on a filesystem both servers mount", "after its registration expires (1m0s after its last heartbeat at 2026-11-22T12:00:00Z)"}},
		{name: "marker of another start", peers: []peerView{view(peer("web2-bb", "filesystem", "tok", 0), "copied")},
			want: []string{"holds another token"}},
		{name: "different artifact stores", peers: []peerView{view(peer("web2-bb", "s3 http://minio:9000 art", "tok", 0), "tok")},
			want: []string{`artifact store "s3 http://minio:9000 art"`, `this server web1-aa has "filesystem"`, "--artifact-s3-bucket"}},
		{name: "every problem is named", peers: []peerView{
			view(peer("web2-bb", "filesystem", "tok", 0), "tok"),
			view(peer("web3-cc", "filesystem", "tok3", 0), ""),
			view(peer("web4-dd", "s3 http://x b", "tok4", 0), "tok4"),
		}, want: []string{"web3-cc", "web4-dd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPeers(self, tc.peers, now)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("checkPeers: %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkPeers: no error, want one naming %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestServerIDPrefix(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]string{
		"web1":                   "web1-",
		"Web1.Example.COM":       "web1-example-com-",
		"":                       "",
		"---":                    "",
		"höst_a":                 "hst-a-",
		strings.Repeat("a", 40):  strings.Repeat("a", 32) + "-",
		"-lead-and-trail-.local": "lead-and-trail--local-",
	} {
		if got := serverIDPrefix(host); got != want {
			t.Errorf("serverIDPrefix(%q) = %q, want %q", host, got, want)
		}
		if got := serverIDPrefix(host) + "0a1b2c3d"; !validServerID(got) {
			t.Errorf("ID %q from host %q is not valid", got, host)
		}
	}
}

// Two servers on one database: the second refuses to start while its
// shared dir is not the first's, names both servers and both paths, and
// leaves no registration behind; with the same shared dir it starts, and
// both use one artifact store. The server ID survives a restart.
func TestSharedDirGuard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	dirA, dirB, otherShared := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "elsewhere")
	db := filepath.Join(dirA, "slipway.db")
	a, err := New(ctx, Config{DataDir: dirA, Stdout: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	idA := readServerID(t, dirA)
	if err := os.MkdirAll(dirB, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(dirA, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirB, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}

	_, err = New(ctx, Config{DataDir: dirB, Database: db, SharedDir: otherShared, Stdout: discard{}})
	if err == nil {
		t.Fatal("a server with another shared dir started on the same database")
	}
	idB := readServerID(t, dirB)
	for _, want := range []string{idA, idB, dirA, otherShared, filepath.Join(otherShared, "servers", idA), "--shared-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
	if _, err := os.Stat(markerPath(otherShared, idB)); err == nil {
		t.Error("the refused server left its marker behind")
	}
	rows, err := a.store.ListServers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != idA || rows[0].SharedDir != dirA || rows[0].ArtifactStore != "filesystem" {
		t.Errorf("registrations after the refusal = %+v, want only %s", rows, idA)
	}

	// The same shared dir but another artifact store (checked before the
	// store is opened: nothing listens there).
	_, err = New(ctx, Config{DataDir: dirB, Database: db, SharedDir: dirA, Stdout: discard{},
		ArtifactS3: &artifact.S3Config{Endpoint: "http://127.0.0.1:1"}, ArtifactBucket: "art"})
	if err == nil || !strings.Contains(err.Error(), `this server `+idB+` has "s3 http://127.0.0.1:1 art"`) {
		t.Fatalf("a server with another artifact store: %v, want a refusal naming both stores", err)
	}

	b, err := New(ctx, Config{DataDir: dirB, Database: db, SharedDir: dirA, Stdout: discard{}})
	if err != nil {
		t.Fatalf("a server sharing the shared dir: %v", err)
	}
	if _, err := a.Artifacts().Put(ctx, "bkt", "k", strings.NewReader("from a")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Artifacts().Get(ctx, "bkt", "k"); err != nil {
		t.Errorf("server b does not see server a's artifact: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dirA, artifact.FSDirName)); err != nil {
		t.Errorf("the default layout moved: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	rows, _ = a.store.ListServers(ctx)
	if len(rows) != 1 || rows[0].ID != idA {
		t.Errorf("registrations after b closed = %+v, want only %s", rows, idA)
	}
	b, err = New(ctx, Config{DataDir: dirB, Database: db, SharedDir: dirA, Stdout: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if id := readServerID(t, dirB); id != idB {
		t.Errorf("server ID after a restart = %s, want %s", id, idB)
	}
}

func readServerID(t *testing.T, dataDir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, serverIDFile))
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(string(data))
	if !validServerID(id) {
		t.Fatalf("server ID %q is not valid", id)
	}
	return id
}

// discard is an io.Writer that drops what it is given.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestIDInUse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	self := &store.RegisteredServer{ID: "web1-aa", Hostname: "web1", Marker: "mine", Started: now}
	reg := func(host, marker string, age time.Duration) *store.RegisteredServer {
		return &store.RegisteredServer{ID: "web1-aa", Hostname: host, PID: 7, URL: "http://10.0.0.9:7700", Marker: marker, Heartbeat: now.Add(-age)}
	}
	for _, tc := range []struct {
		name          string
		before, after *store.RegisteredServer
		inUse         bool
	}{
		{"never registered", nil, nil, false},
		{"own registration before a restart", reg("web1", "old", time.Second), reg("web1", "old", 0), false},
		{"stale registration from another host", reg("web9", "x", time.Minute+time.Millisecond), reg("web9", "x", 0), false},
		{"other host, no heartbeat meanwhile", reg("web9", "x", time.Second), reg("web9", "x", time.Second), false},
		{"other host, left meanwhile", reg("web9", "x", time.Second), nil, false},
		{"other host, heartbeat meanwhile", reg("web9", "x", time.Second), reg("web9", "x", 0), true},
		{"other host, replaced meanwhile", reg("web9", "x", time.Second), reg("web8", "y", time.Second), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := idInUse(self, tc.before, tc.after, "/data/server-id")
			if (err != nil) != tc.inUse {
				t.Fatalf("idInUse: %v, want in use %v", err, tc.inUse)
			}
			if err != nil {
				for _, w := range []string{"web1-aa", "/data/server-id", "host " + tc.after.Hostname, "copy only master.key"} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\nlacks %q", err, w)
					}
				}
			}
		})
	}
}

// A server whose data dir is a copy of a running server's (same server
// ID, another host) refuses to start while that server heartbeats, and
// takes the ID over once it has stopped.
func TestCopiedDataDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "slipway.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := os.WriteFile(filepath.Join(dir, serverIDFile), []byte("web1-0a0b0c0d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	other := &store.RegisteredServer{ID: "web1-0a0b0c0d", Hostname: "another-host.invalid", PID: 99, URL: "http://10.9.9.9:7700",
		ArtifactStore: "filesystem", SharedDir: "/srv/shared", Marker: "theirs", Started: now, Heartbeat: now}
	if err := st.PutServer(ctx, other); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{DataDir: dir, SharedDir: dir}
	cfg.setDefaults()

	// The other server heartbeats while this one watches.
	waited := 0
	beat := func(ctx context.Context) error {
		waited++
		return st.TouchServer(ctx, other.ID, other.Marker, now.Add(5*time.Second))
	}
	_, err = registerServer(ctx, st, cfg, beat)
	if err == nil || waited != 1 {
		t.Fatalf("registerServer next to a live server with the same ID: %v (waited %d times), want a refusal", err, waited)
	}
	for _, w := range []string{"refusing to start", "web1-0a0b0c0d", "another-host.invalid", filepath.Join(dir, serverIDFile)} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\nlacks %q", err, w)
		}
	}
	if _, err := os.Stat(markerPath(dir, other.ID)); err == nil {
		t.Error("the refused server wrote its marker over the running server's")
	}

	// Stopped: no heartbeat while this one watches; it takes the ID over.
	r, err := registerServer(ctx, st, cfg, func(context.Context) error { waited++; return nil })
	if err != nil || waited != 2 {
		t.Fatalf("registerServer after the other stopped: %v (waited %d times)", err, waited)
	}
	defer r.leave(ctx)
	all, err := st.ListServers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if len(all) != 1 || all[0].Hostname != host || all[0].Marker == other.Marker {
		t.Errorf("registrations = %+v, want this server's only", all)
	}
}
