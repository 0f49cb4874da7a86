package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/store"
)

// Job keys are Slipway's temporary credentials: an access key ID
// ("ASIA..."), a secret and a session token, issued for one job (a
// function invocation's artifactCredentials) and valid until they expire
// or are revoked. A request signed with one must carry the session token
// (X-Amz-Security-Token, which the SDKs send from AWS_SESSION_TOKEN) and
// may call only the job API operations of JobKeyOperations for that one
// job; anything else is AccessDeniedException.

// JobKeyPrefix starts every job key ID, as AWS's temporary access key IDs
// start with ASIA.
const JobKeyPrefix = "ASIA"

// JobKeyOperations are the X-Amz-Target values a job key may call, each
// for its own job only (the request's jobId).
var JobKeyOperations = []string{
	"CodePipeline_20150709.AcknowledgeJob",
	"CodePipeline_20150709.GetJobDetails",
	"CodePipeline_20150709.PutJobSuccessResult",
	"CodePipeline_20150709.PutJobFailureResult",
}

// JobKeyStore is the part of store.Store that job keys need.
type JobKeyStore interface {
	CreateJobKey(ctx context.Context, k *store.JobKey) error
	GetJobKey(ctx context.Context, id string) (*store.JobKey, error)
	DeleteJobKey(ctx context.Context, id string) error
	DeleteExpiredJobKeys(ctx context.Context, t time.Time) (int, error)
}

// JobKeys issues, verifies and revokes job keys. It is safe for
// concurrent use if its JobKeyStore is.
//
// Looked-up keys are kept in memory for CacheTTL: a key revoked through
// this JobKeys stops working at once, one revoked on another server within
// CacheTTL. Expiry is checked on every request.
type JobKeys struct {
	store     JobKeyStore
	sealer    *Sealer
	accountID string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CacheTTL is how long a looked-up key is used without reading the
	// store again: zero means DefaultKeyCacheTTL, negative disables the
	// cache.
	CacheTTL time.Duration
	// CacheSize bounds the cached keys; zero means DefaultKeyCacheSize.
	CacheSize int

	cache keyCache[lookedUpJobKey]
}

// lookedUpJobKey is a job key as lookup returns it.
type lookedUpJobKey struct {
	secret []byte
	caller awsproto.Caller
	key    *store.JobKey
}

// NewJobKeys returns a JobKeys that keeps keys in st, sealed with sealer,
// for the 12-digit account accountID.
func NewJobKeys(st JobKeyStore, sealer *Sealer, accountID string) *JobKeys {
	return &JobKeys{store: st, sealer: sealer, accountID: accountID}
}

// IsJobKeyID reports whether id names a job key rather than an access key.
func IsJobKeyID(id string) bool { return strings.HasPrefix(id, JobKeyPrefix) }

func (k *JobKeys) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// Issue creates a key for job jobID that expires after ttl and returns its
// ID, secret and session token. It also removes keys that have expired.
func (k *JobKeys) Issue(ctx context.Context, jobID string, ttl time.Duration) (id, secret, token string, err error) {
	now := k.now().UTC()
	_, _ = k.store.DeleteExpiredJobKeys(ctx, now) // housekeeping; a failure only leaves dead rows
	var idBytes [10]byte
	var secretBytes [30]byte
	var tokenBytes [96]byte
	for range 3 { // an ID collision is all but impossible; retry anyway
		for _, b := range [][]byte{idBytes[:], secretBytes[:], tokenBytes[:]} {
			_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
		}
		id = JobKeyPrefix + base32.StdEncoding.EncodeToString(idBytes[:])
		secret = base64.StdEncoding.EncodeToString(secretBytes[:])
		token = base64.StdEncoding.EncodeToString(tokenBytes[:])
		sealed, err := k.sealer.Seal([]byte(secret))
		if err != nil {
			return "", "", "", fmt.Errorf("auth: issue job key: %w", err)
		}
		err = k.store.CreateJobKey(ctx, &store.JobKey{ID: id, SealedSecret: sealed, TokenHash: hashToken(token),
			JobID: jobID, Expires: now.Add(ttl), Created: now})
		if errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return "", "", "", fmt.Errorf("auth: issue job key for job %s: %w", jobID, err)
		}
		return id, secret, token, nil
	}
	return "", "", "", errors.New("auth: issue job key: generated IDs kept colliding")
}

// Revoke deletes a job key; a key already gone is not an error.
func (k *JobKeys) Revoke(ctx context.Context, id string) error {
	k.cache.forget(id)
	defer k.cache.forget(id) // and what a lookup meanwhile may have kept
	if err := k.store.DeleteJobKey(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("auth: revoke job key %s: %w", id, err)
	}
	return nil
}

// lookup returns the secret of job key id (a copy the caller may clear),
// the identity it signs for and the key. The error wraps store.ErrNotFound
// when no such key exists. A key found is kept in memory for CacheTTL.
func (k *JobKeys) lookup(ctx context.Context, id string) ([]byte, awsproto.Caller, *store.JobKey, error) {
	if !keyIDPattern.MatchString(id) {
		return nil, awsproto.Caller{}, nil, fmt.Errorf("auth: look up job key: malformed ID: %w", store.ErrNotFound)
	}
	ttl, size := cachePolicy(k.CacheTTL, k.CacheSize)
	now := k.now()
	if ttl > 0 {
		if c, ok := k.cache.get(id, now); ok {
			key := *c.key
			return bytes.Clone(c.secret), c.caller, &key, nil
		}
	}
	secret, caller, key, err := k.read(ctx, id)
	if err != nil || ttl < 0 {
		return secret, caller, key, err
	}
	stored := *key
	k.cache.put(id, lookedUpJobKey{secret: bytes.Clone(secret), caller: caller, key: &stored}, now, ttl, size)
	return secret, caller, key, nil
}

// read reads job key id from the store and opens its secret.
func (k *JobKeys) read(ctx context.Context, id string) ([]byte, awsproto.Caller, *store.JobKey, error) {
	key, err := k.store.GetJobKey(ctx, id)
	if err != nil {
		return nil, awsproto.Caller{}, nil, fmt.Errorf("auth: look up job key %s: %w", id, err)
	}
	secret, err := k.sealer.Open(key.SealedSecret)
	if err != nil {
		return nil, awsproto.Caller{}, nil, fmt.Errorf("auth: job key %s: %w", id, err)
	}
	return secret, awsproto.Caller{
		AccessKeyID: id,
		ARN:         "arn:aws:sts::" + k.accountID + ":assumed-role/slipway-job/" + key.JobID,
		AccountID:   k.accountID,
	}, key, nil
}

// authorize checks, once the signature is verified, that a request signed
// with key carries its session token, that the key has not expired, and
// that the request is a job API call for the key's job.
func (k *JobKeys) authorize(r *http.Request, body []byte, key *store.JobKey, caller awsproto.Caller) error {
	token := r.Header.Get("X-Amz-Security-Token")
	if subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(key.TokenHash)) != 1 {
		return awsproto.Errorf(awsproto.UnrecognizedClientException,
			"The security token included in the request is invalid. A job key needs its session token (AWS_SESSION_TOKEN, the sessionToken of the job's artifactCredentials).")
	}
	if !k.now().Before(key.Expires) {
		return awsproto.Errorf("ExpiredTokenException", "The security token included in the request is expired")
	}
	target := r.Header.Get("X-Amz-Target")
	allowed := false
	for _, op := range JobKeyOperations {
		allowed = allowed || target == op
	}
	_, op, _ := strings.Cut(target, ".")
	var in struct {
		JobID string `json:"jobId"`
	}
	if !allowed || awsproto.Decode(body, &in) != nil || in.JobID != key.JobID {
		return awsproto.Errorf(awsproto.AccessDeniedException,
			"User: %s is not authorized to perform: codepipeline:%s; the credentials of a job allow only AcknowledgeJob, GetJobDetails, PutJobSuccessResult and PutJobFailureResult for job %s",
			caller.ARN, clip(op), key.JobID)
	}
	return nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
