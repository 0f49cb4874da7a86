package store

import (
	"context"
	"time"
)

// RecordAgentSeen implements AgentQueries.
//
// Divergence: outside a transaction the upsert runs on the write pool
// without the writer lock on PostgreSQL (on SQLite the pool has the one
// writer connection anyway): one statement that only moves seen_ms
// forward cannot lose an update, and agents' polls should not queue
// behind reconciles.
func (q *queries) RecordAgentSeen(ctx context.Context, instance string, at time.Time) error {
	w := q.write
	if q.pool != nil {
		w = q.pool
	}
	_, err := w.ExecContext(ctx, q.d.rebind(`INSERT INTO agent_seen (instance, seen_ms) VALUES (?, ?)
ON CONFLICT (instance) DO UPDATE SET seen_ms = excluded.seen_ms WHERE excluded.seen_ms > agent_seen.seen_ms`),
		instance, toMillis(at))
	if err != nil {
		return q.interpretError(err, "record agent of instance %q seen", instance)
	}
	return nil
}

// AgentSeen implements AgentQueries.
func (q *queries) AgentSeen(ctx context.Context, instance string) (time.Time, error) {
	var ms int64
	if err := q.queryRow(ctx, `SELECT seen_ms FROM agent_seen WHERE instance = ?`, instance).Scan(&ms); err != nil {
		return time.Time{}, q.interpretError(err, "get agent of instance %q seen", instance)
	}
	return fromMillis(ms), nil
}
