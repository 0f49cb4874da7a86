package store

import (
	"context"
	"time"
)

// Function is a Slipway function: what the FunctionName of a Lambda
// invoke action names (a registered command or HTTP endpoint).
type Function struct {
	Name string
	// Definition is the function as JSON (the extension API's shape: its
	// command or URL, timeout and environment); the store does not look
	// inside.
	Definition []byte
	Created    time.Time
	Updated    time.Time
}

// JobKey is a temporary access key valid for the job API calls of one job
// until it expires: the artifactCredentials of a function invocation. The
// secret is sealed by the caller, as access-key secrets are; the session
// token is kept only as its hash.
type JobKey struct {
	ID           string
	SealedSecret []byte
	// TokenHash is the lowercase hex SHA-256 of the session token.
	TokenHash string
	// JobID is the one job the key may act on.
	JobID   string
	Expires time.Time
	Created time.Time
}

// ObjectPollState is what the S3 source poller last saw of an object of
// the artifact store.
type ObjectPollState struct {
	Bucket string
	Key    string
	// ETag and VersionID are empty when the object was missing.
	ETag      string
	VersionID string
	// Modified is the object's last-modified time (zero when missing).
	Modified time.Time
	// Updated is when the state was recorded.
	Updated time.Time
}

// FunctionQueries are the queries of Lambda invoke actions and S3 source
// change detection: functions, job keys and object poll states (tables in
// migrations/*/0007_functions.sql).
type FunctionQueries interface {
	// CreateFunction inserts f; ErrExists if the name is taken. Zero
	// f.Created and f.Updated are set to the current time.
	CreateFunction(ctx context.Context, f *Function) error
	// GetFunction returns the named function; ErrNotFound if none.
	GetFunction(ctx context.Context, name string) (*Function, error)
	// ListFunctions returns every function ordered by name (byte-wise).
	ListFunctions(ctx context.Context) ([]*Function, error)
	// DeleteFunction removes the named function; ErrNotFound if none.
	DeleteFunction(ctx context.Context, name string) error

	// CreateJobKey inserts k; ErrExists if the ID is taken. A zero
	// k.Created is set to the current time.
	CreateJobKey(ctx context.Context, k *JobKey) error
	// GetJobKey returns the job key with the given ID, expired or not;
	// ErrNotFound if none.
	GetJobKey(ctx context.Context, id string) (*JobKey, error)
	// DeleteJobKey removes a job key; ErrNotFound if none.
	DeleteJobKey(ctx context.Context, id string) error
	// DeleteExpiredJobKeys removes the job keys that expire at or before
	// t and returns how many it removed.
	DeleteExpiredJobKeys(ctx context.Context, t time.Time) (int, error)

	// PutObjectPollState creates or replaces the state of (s.Bucket,
	// s.Key). A zero s.Updated is set to the current time.
	PutObjectPollState(ctx context.Context, s *ObjectPollState) error
	// GetObjectPollState returns the state of an object; ErrNotFound if
	// none was recorded.
	GetObjectPollState(ctx context.Context, bucket, key string) (*ObjectPollState, error)
	// ListObjectPollStates returns every state ordered by bucket and key
	// (byte-wise).
	ListObjectPollStates(ctx context.Context) ([]*ObjectPollState, error)
	// DeleteObjectPollState removes the state of an object; ErrNotFound
	// if none.
	DeleteObjectPollState(ctx context.Context, bucket, key string) error
}
