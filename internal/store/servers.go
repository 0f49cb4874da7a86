package store

import (
	"context"
	"time"
)

// RegisteredServer is one running slipway server as it registered itself
// in the database (table in migrations/*/0011_servers.sql): servers that
// share a database read each other's rows to check that they also share
// their storage.
type RegisteredServer struct {
	ID       string
	Hostname string
	PID      int
	// URL is where the server serves (its public URL, else its listen
	// address).
	URL string
	// ArtifactStore names the server's artifact store: "filesystem", or
	// "s3 <endpoint> <bucket>".
	ArtifactStore string
	// SharedDir is the absolute path of the server's --shared-dir.
	SharedDir string
	// Marker is the random token the server wrote to
	// <SharedDir>/servers/<ID>.
	Marker    string
	Started   time.Time
	Heartbeat time.Time
}

// ServerQueries are the queries over the server registry.
type ServerQueries interface {
	// PutServer inserts the registration s, or replaces the one with the
	// same ID.
	PutServer(ctx context.Context, s *RegisteredServer) error
	// TouchServer sets the heartbeat of the registration id whose marker
	// is marker; ErrNotFound if there is none (it expired, or another
	// server registered with the same ID since).
	TouchServer(ctx context.Context, id, marker string, at time.Time) error
	// ListServers returns every registration ordered by ID, stale ones
	// included.
	ListServers(ctx context.Context) ([]*RegisteredServer, error)
	// DeleteServer removes a registration; ErrNotFound if none.
	DeleteServer(ctx context.Context, id string) error
	// DeleteServersBefore removes the registrations whose heartbeat is
	// before t and returns how many it removed.
	DeleteServersBefore(ctx context.Context, t time.Time) (int, error)
}
