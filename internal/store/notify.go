package store

import (
	"context"
	"time"
)

// NotificationTarget is an HTTP endpoint that receives Slipway's
// notifications (the messages of manual approval actions). A target is
// addressed by name; an approval's NotificationArn names it in its last
// ":"-separated segment.
type NotificationTarget struct {
	Name string
	URL  string // http:// or https://
	// SealedSecret is the key deliveries are signed with (HMAC-SHA256),
	// sealed by the caller before it reaches the store, as access-key
	// secrets are; nil when deliveries are unsigned.
	SealedSecret []byte
	Created      time.Time
	Updated      time.Time
}

// NotifyQueries are the queries over notification targets and what the
// notifier needs of the event log (tables in migrations/*/0003_notify.sql;
// the notifier's cursor is a setting).
type NotifyQueries interface {
	// PutNotificationTarget creates t, or replaces the URL and secret of
	// the target of the same name. A replaced target keeps its creation
	// time, which is written back to t.Created. Zero t.Created and
	// t.Updated are set to the current time.
	PutNotificationTarget(ctx context.Context, t *NotificationTarget) error
	// GetNotificationTarget returns the named target; ErrNotFound if none.
	GetNotificationTarget(ctx context.Context, name string) (*NotificationTarget, error)
	// ListNotificationTargets returns every target ordered by name.
	ListNotificationTargets(ctx context.Context) ([]*NotificationTarget, error)
	// DeleteNotificationTarget removes the named target; ErrNotFound if
	// none.
	DeleteNotificationTarget(ctx context.Context, name string) error

	// LastEventID returns the highest event ID so far, 0 when the event
	// log is empty.
	LastEventID(ctx context.Context) (int64, error)
}
