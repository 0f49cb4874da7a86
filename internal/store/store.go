// Package store is Slipway's persistence seam: one interface, [Store], over
// the database that holds all state (pipelines, their versions, tags, action
// types, access keys, settings). [Open] picks the database from a data
// source name; one database/sql implementation serves every database, with
// the differences between them kept in a small dialect type and per-dialect
// migrations. Nothing outside this package knows which database is in use.
//
// Every method takes a context and returns the domain types below. Errors
// that callers act on are the sentinels [ErrNotFound], [ErrExists] and
// [ErrConflict], wrapped with context. Writes that must happen together go
// through [Store.InTx].
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound means the addressed row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrExists means a row with the same key already exists.
	ErrExists = errors.New("store: already exists")
	// ErrConflict means a concurrent change won (optimistic version check).
	ErrConflict = errors.New("store: concurrent modification")
)

// Pipeline is one version of a pipeline declaration.
type Pipeline struct {
	Name        string
	Version     int32
	Declaration []byte // the declaration as JSON (cpapi.PipelineDeclaration)
	Created     time.Time
	Updated     time.Time
}

// Tag is a resource tag.
type Tag struct {
	Key   string
	Value string
}

// ActionTypeKey identifies an action type.
type ActionTypeKey struct {
	Category string
	Owner    string
	Provider string
	Version  string
}

// ActionType is a registered (custom) action type.
type ActionType struct {
	ActionTypeKey
	Declaration []byte // JSON of the action type as the API returns it
	Created     time.Time
}

// AccessKey is an API credential. The secret is sealed (encrypted) by the
// caller before it reaches the store.
type AccessKey struct {
	ID           string
	SealedSecret []byte
	UserName     string
	Created      time.Time
}

// Page bounds a listing: rows with keys after After, at most Limit of them
// (all when Limit <= 0).
type Page struct {
	After string
	Limit int
}

// Queries are the operations available both directly on a Store and inside
// a transaction.
type Queries interface {
	RunQueries
	NotifyQueries
	DeployQueries
	SourceQueries
	DeploymentQueries
	BuildQueries
	FunctionQueries
	EnrollQueries
	ServerQueries
	WakeQueries
	AgentQueries

	// CreatePipeline inserts version p.Version of a new pipeline; ErrExists
	// if the name is taken.
	CreatePipeline(ctx context.Context, p *Pipeline) error
	// GetPipeline returns the latest version of the named pipeline.
	GetPipeline(ctx context.Context, name string) (*Pipeline, error)
	// GetPipelineVersion returns one stored version of the named pipeline.
	GetPipelineVersion(ctx context.Context, name string, version int32) (*Pipeline, error)
	// UpdatePipeline stores p as the new latest version, provided the
	// current latest version is p.Version-1 (ErrConflict otherwise). Older
	// versions are kept.
	UpdatePipeline(ctx context.Context, p *Pipeline) error
	// DeletePipeline removes the pipeline and all its versions.
	DeletePipeline(ctx context.Context, name string) error
	// ListPipelines returns the latest version of pipelines ordered by name.
	ListPipelines(ctx context.Context, page Page) ([]*Pipeline, error)
	// CountPipelines returns how many pipelines exist.
	CountPipelines(ctx context.Context) (int, error)

	// TagResource adds or replaces tags on a resource ARN.
	TagResource(ctx context.Context, arn string, tags []Tag) error
	// UntagResource removes the given tag keys (missing keys are ignored).
	UntagResource(ctx context.Context, arn string, keys []string) error
	// ListTags returns a resource's tags ordered by key.
	ListTags(ctx context.Context, arn string) ([]Tag, error)
	// DeleteTags removes every tag of a resource.
	DeleteTags(ctx context.Context, arn string) error

	// CreateActionType inserts a custom action type; ErrExists if present.
	CreateActionType(ctx context.Context, t *ActionType) error
	// GetActionType returns one action type.
	GetActionType(ctx context.Context, key ActionTypeKey) (*ActionType, error)
	// ListActionTypes returns all stored action types ordered by key.
	ListActionTypes(ctx context.Context) ([]*ActionType, error)
	// DeleteActionType removes an action type.
	DeleteActionType(ctx context.Context, key ActionTypeKey) error

	// CreateAccessKey inserts an access key; ErrExists if the ID is taken.
	CreateAccessKey(ctx context.Context, k *AccessKey) error
	// GetAccessKey returns an access key by ID.
	GetAccessKey(ctx context.Context, id string) (*AccessKey, error)
	// ListAccessKeys returns all access keys ordered by ID.
	ListAccessKeys(ctx context.Context) ([]*AccessKey, error)

	// GetSetting returns a server setting; ErrNotFound if unset.
	GetSetting(ctx context.Context, key string) (string, error)
	// PutSetting sets a server setting.
	PutSetting(ctx context.Context, key, value string) error
}

// Store is a database holding Slipway's state.
type Store interface {
	Queries
	// InTx runs fn in one transaction: committed if fn returns nil, rolled
	// back otherwise. Transactions (and all other writes) are serialised,
	// across processes sharing the database too, so what fn reads through
	// q does not change under it before it commits; fn runs exactly once,
	// never retried. fn must not retain q after returning, nor write
	// through the Store, which would wait for fn's own transaction.
	InTx(ctx context.Context, fn func(q Queries) error) error
	// Subscribe calls fn with every notification published on channel
	// (WakeQueries.Publish) through this Store or, on PostgreSQL, any
	// Store on the same database, and with a Resync notification when some
	// may have been missed. fn runs on the publisher's or the listener's
	// goroutine and must not block. cancel ends the subscription; Close
	// ends them all.
	Subscribe(channel string, fn func(Notification)) (cancel func())
	// Close releases the database.
	Close() error
}
