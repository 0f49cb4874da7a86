package notify

import (
	"context"

	"github.com/slipway-cd/slipway/internal/store"
)

// WatchApprovals returns st with one difference: after a write that
// appended an event the notifier delivers ([Delivers]: approvals and
// deployment triggers) commits, it calls
// wake (Notifier.Wake), so the notifier delivers at once instead of at its
// next poll. Give it to the writers of those events (the engine and the
// deployment runner). wake runs after
// the commit, never inside a transaction, and must not block.
func WatchApprovals(st store.Store, wake func()) store.Store {
	return &watchedStore{Store: st, wake: wake}
}

type watchedStore struct {
	store.Store
	wake func()
}

// AppendEvent implements store.Queries: a plain append commits at once.
func (s *watchedStore) AppendEvent(ctx context.Context, e *store.Event) error {
	err := s.Store.AppendEvent(ctx, e)
	if err == nil && Delivers(e.Type) {
		s.wake()
	}
	return err
}

// InTx implements store.Store, watching the appends of fn.
func (s *watchedStore) InTx(ctx context.Context, fn func(q store.Queries) error) error {
	appended := false
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		return fn(&watchedQueries{Queries: q, appended: &appended})
	})
	if err == nil && appended {
		s.wake()
	}
	return err
}

type watchedQueries struct {
	store.Queries
	appended *bool
}

// AppendEvent implements store.Queries.
func (q *watchedQueries) AppendEvent(ctx context.Context, e *store.Event) error {
	err := q.Queries.AppendEvent(ctx, e)
	if err == nil && Delivers(e.Type) {
		*q.appended = true
	}
	return err
}
