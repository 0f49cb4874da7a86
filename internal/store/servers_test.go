package store

import (
	"testing"
	"time"
)

// The ServerQueries part of the conformance suite, on both databases.
func exerciseServers(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Servers", func(t *testing.T) {
		t.Parallel()
		testServers(t, open(t))
	})
}

func TestSQLiteServers(t *testing.T) {
	t.Parallel()
	exerciseServers(t, openSQLiteTemp)
}

func TestPostgresServers(t *testing.T) {
	t.Parallel()
	postgresAdminDSN(t)
	exerciseServers(t, openPostgresTemp)
}

func serverID(s *RegisteredServer) string { return s.ID }

func testServers(t *testing.T, s Store) {
	ctx := t.Context()
	rs, err := s.ListServers(ctx)
	wantKeys(t, "ListServers empty", rs, err, serverID)
	wantErr(t, "TouchServer missing", s.TouchServer(ctx, "a", "m-a", at(0)), ErrNotFound)
	wantErr(t, "DeleteServer missing", s.DeleteServer(ctx, "a"), ErrNotFound)

	a := &RegisteredServer{ID: "a", Hostname: "web1", PID: 41, URL: "http://10.0.0.1:7700", ArtifactStore: "filesystem",
		SharedDir: "/srv/shared", Marker: "m-a", Started: at(0), Heartbeat: at(0)}
	b := &RegisteredServer{ID: "B", Hostname: "web2", PID: 42, URL: "http://10.0.0.2:7700", ArtifactStore: "s3 http://minio:9000 art",
		SharedDir: "/mnt/shared", Marker: "m-b", Started: at(time.Second), Heartbeat: at(50 * time.Second)}
	must(t, "PutServer a", s.PutServer(ctx, a))
	must(t, "PutServer B", s.PutServer(ctx, b))
	rs, err = s.ListServers(ctx)
	wantKeys(t, "ListServers", rs, err, serverID, "B", "a")
	wantEqual(t, "ListServers", rs, []*RegisteredServer{b, a})

	// A restarted server replaces its row.
	a2 := *a
	a2.PID, a2.Marker, a2.Started, a2.Heartbeat = 43, "m-a2", at(10*time.Second), at(10*time.Second)
	must(t, "PutServer a again", s.PutServer(ctx, &a2))
	wantErr(t, "TouchServer a with the old marker", s.TouchServer(ctx, "a", "m-a", at(40*time.Second)), ErrNotFound)
	must(t, "TouchServer a", s.TouchServer(ctx, "a", "m-a2", at(40*time.Second)))
	a2.Heartbeat = at(40 * time.Second)
	rs, err = s.ListServers(ctx)
	wantKeys(t, "ListServers after restart", rs, err, serverID, "B", "a")
	wantEqual(t, "ListServers after restart", rs[1], &a2)

	// Stale rows go; the boundary is exclusive.
	n, err := s.DeleteServersBefore(ctx, at(40*time.Second))
	must(t, "DeleteServersBefore 40s", err)
	if n != 0 {
		t.Errorf("DeleteServersBefore 40s removed %d, want 0", n)
	}
	n, err = s.DeleteServersBefore(ctx, at(45*time.Second))
	must(t, "DeleteServersBefore 45s", err)
	if n != 1 {
		t.Errorf("DeleteServersBefore 45s removed %d, want 1", n)
	}
	rs, err = s.ListServers(ctx)
	wantKeys(t, "ListServers after expiry", rs, err, serverID, "B")
	wantErr(t, "TouchServer expired", s.TouchServer(ctx, "a", "m-a2", at(50*time.Second)), ErrNotFound)

	must(t, "DeleteServer B", s.DeleteServer(ctx, "B"))
	rs, err = s.ListServers(ctx)
	wantKeys(t, "ListServers after delete", rs, err, serverID)
}
