package store

import (
	"context"
	"time"
)

// Connection is a git remote outside Slipway that source actions read
// (the ConnectionArn of a CodeStarSourceConnection action), with the
// credentials to read it.
type Connection struct {
	ARN  string // arn:aws:codeconnections:<region>:<account>:connection/<uuid>
	Name string // not unique, as in AWS CodeConnections
	// RemoteURL is the repository's URL, or a template with
	// {FullRepositoryId} for a host of many repositories. It never holds
	// credentials.
	RemoteURL string
	Username  string
	// SealedPassword is the password or access token, sealed by the caller
	// before it reaches the store; nil when there is none.
	SealedPassword []byte
	Created        time.Time
	Updated        time.Time
}

// Webhook is a webhook of the CodePipeline API (PutWebhook): a URL whose
// authenticated POSTs start a pipeline.
type Webhook struct {
	Name string
	// Definition is the cpapi.WebhookDefinition as JSON, without its
	// SecretToken.
	Definition []byte
	// SealedSecret is the SecretToken, sealed by the caller; nil when
	// there is none.
	SealedSecret []byte
	// LastTriggered is the last delivery that started the pipeline; zero
	// until then.
	LastTriggered time.Time
	Created       time.Time
	Updated       time.Time
}

// SourcePollState is the commit a ref of a polled remote pointed at when
// the poller last listed it.
type SourcePollState struct {
	Remote  string // the remote's URL, without credentials
	Ref     string // e.g. refs/heads/main; "" marks a remote listed once
	Commit  string
	Updated time.Time
}

// SourceQueries are the queries over connections, webhooks and the
// poller's state (tables in migrations/*/0006_sources.sql).
type SourceQueries interface {
	// CreateConnection inserts c; ErrExists if its ARN is taken. Zero
	// c.Created and c.Updated are set to the current time.
	CreateConnection(ctx context.Context, c *Connection) error
	// GetConnection returns the connection with the ARN; ErrNotFound if
	// none.
	GetConnection(ctx context.Context, arn string) (*Connection, error)
	// ListConnections returns every connection ordered by name, then ARN.
	ListConnections(ctx context.Context) ([]*Connection, error)
	// DeleteConnection removes a connection; ErrNotFound if none.
	DeleteConnection(ctx context.Context, arn string) error

	// PutWebhook creates w, or replaces the definition and secret of the
	// webhook of the same name. A replaced webhook keeps its creation and
	// last-triggered times, which are written back to w. Zero w.Created
	// and w.Updated are set to the current time.
	PutWebhook(ctx context.Context, w *Webhook) error
	// GetWebhook returns the named webhook; ErrNotFound if none.
	GetWebhook(ctx context.Context, name string) (*Webhook, error)
	// ListWebhooks returns webhooks ordered by name, paged by name.
	ListWebhooks(ctx context.Context, page Page) ([]*Webhook, error)
	// DeleteWebhook removes the named webhook; ErrNotFound if none.
	DeleteWebhook(ctx context.Context, name string) error
	// SetWebhookTriggered records a successful delivery; ErrNotFound if the
	// webhook does not exist.
	SetWebhookTriggered(ctx context.Context, name string, at time.Time) error

	// ListSourcePollStates returns the states of one remote ordered by
	// ref.
	ListSourcePollStates(ctx context.Context, remote string) ([]*SourcePollState, error)
	// PutSourcePollState creates or replaces the state of s.Remote and
	// s.Ref. A zero s.Updated is set to the current time.
	PutSourcePollState(ctx context.Context, s *SourcePollState) error
	// DeleteSourcePollState removes one state; ErrNotFound if none.
	DeleteSourcePollState(ctx context.Context, remote, ref string) error
}
