package store

import (
	"context"
	"time"
)

// AgentQueries keep when each instance's host agent last polled, shared by
// every server on the database (table in migrations/*/0010_agents.sql).
type AgentQueries interface {
	// RecordAgentSeen records that instance's agent polled at at; an
	// older time than the one stored is ignored. It takes no writer lock
	// (it reads nothing), so it is cheap enough for every poll, though
	// callers throttle it.
	RecordAgentSeen(ctx context.Context, instance string, at time.Time) error
	// AgentSeen returns when instance's agent last polled; ErrNotFound if
	// it never did.
	AgentSeen(ctx context.Context, instance string) (time.Time, error)
}
