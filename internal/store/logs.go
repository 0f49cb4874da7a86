package store

import (
	"context"
	"time"
)

// LogChunk is one piece of an action run's log, as a worker sent it.
type LogChunk struct {
	// Seq numbers the chunks of one action run from 1, in append order.
	Seq int64
	// Time is when the chunk was stored.
	Time time.Time
	// Data is the raw log bytes.
	Data []byte
}

// BuildProject is a build project that CodeBuild actions name in their
// ProjectName configuration.
type BuildProject struct {
	Name string
	// Declaration is the project as JSON (the extension API's shape: the
	// buildspec, environment variables, timeout, worker labels); the store
	// does not look inside.
	Declaration []byte
	Created     time.Time
	Updated     time.Time
}

// Secret is a named secret that buildspecs (env.parameter-store,
// env.secrets-manager) and build projects (variables of type SECRET)
// reference. The value is sealed by the caller before it reaches the
// store, as access-key secrets are.
type Secret struct {
	Name        string
	SealedValue []byte
	Created     time.Time
	Updated     time.Time
}

// BuildQueries are the queries of Slipway's built-in build actions: build
// projects, secrets and action logs (tables in
// migrations/*/0005_builds.sql; per-project build numbers are counters,
// NextSeq("codebuild:<project>")).
type BuildQueries interface {
	// CreateBuildProject inserts p; ErrExists if the name is taken. Zero
	// p.Created and p.Updated are set to the current time.
	CreateBuildProject(ctx context.Context, p *BuildProject) error
	// UpdateBuildProject replaces the declaration of an existing project
	// (ErrNotFound if none) and sets its update time; the creation time
	// stays and is written back to p.Created. A zero p.Updated is set to
	// the current time.
	UpdateBuildProject(ctx context.Context, p *BuildProject) error
	// GetBuildProject returns the named project; ErrNotFound if none.
	GetBuildProject(ctx context.Context, name string) (*BuildProject, error)
	// ListBuildProjects returns every project ordered by name (byte-wise).
	ListBuildProjects(ctx context.Context) ([]*BuildProject, error)
	// DeleteBuildProject removes the named project; ErrNotFound if none.
	DeleteBuildProject(ctx context.Context, name string) error

	// PutSecret creates s, or replaces the value of the secret of the same
	// name; a replaced secret keeps its creation time, which is written
	// back to s.Created. Zero s.Created and s.Updated are set to the
	// current time.
	PutSecret(ctx context.Context, s *Secret) error
	// GetSecret returns the named secret; ErrNotFound if none.
	GetSecret(ctx context.Context, name string) (*Secret, error)
	// ListSecrets returns every secret ordered by name (byte-wise).
	ListSecrets(ctx context.Context) ([]*Secret, error)
	// DeleteSecret removes the named secret; ErrNotFound if none.
	DeleteSecret(ctx context.Context, name string) error

	// AppendActionLog stores data as the next chunk of the action run's
	// log and returns its sequence number (1 for the first chunk). The
	// store does not check that the action run exists.
	AppendActionLog(ctx context.Context, actionRunID string, data []byte) (int64, error)
	// ReadActionLog returns the chunks of the action run's log with Seq >
	// afterSeq in order, at most limit of them (all when limit <= 0); an
	// empty, non-nil slice when there are none.
	ReadActionLog(ctx context.Context, actionRunID string, afterSeq int64, limit int) ([]LogChunk, error)
}
