package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/store"
)

// KeyStore is the part of store.Store that access keys need.
type KeyStore interface {
	// CreateAccessKey inserts k; store.ErrExists if the ID is taken.
	CreateAccessKey(ctx context.Context, k *store.AccessKey) error
	// GetAccessKey returns the key with the given ID; store.ErrNotFound if
	// there is none.
	GetAccessKey(ctx context.Context, id string) (*store.AccessKey, error)
}

// AccessKey is a newly generated credential with its secret in clear. Only
// the owner ever sees the secret: it is stored sealed.
type AccessKey struct {
	ID       string // "AKIA" and 16 characters of [A-Z2-7]
	Secret   string // 40 characters of [A-Za-z0-9+/]
	UserName string
}

// userNamePattern is IAM's user-name syntax.
var userNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// keyIDPattern accepts what AWS accepts as an access key ID, so that
// garbage never reaches the store.
var keyIDPattern = regexp.MustCompile(`^\w{16,128}$`)

// NewAccessKey generates an access key for userName from crypto/rand.
// userName follows IAM rules: 1 to 64 characters of letters, digits and
// + = , . @ _ -.
func NewAccessKey(userName string) (AccessKey, error) {
	if !userNamePattern.MatchString(userName) {
		return AccessKey{}, fmt.Errorf("auth: invalid user name %q: use 1 to 64 letters, digits or +=,.@_-", userName)
	}
	var idBytes [10]byte     // 80 bits: 16 base32 characters
	var secretBytes [30]byte // 240 bits: 40 base64 characters
	if _, err := rand.Read(idBytes[:]); err != nil {
		return AccessKey{}, fmt.Errorf("auth: generate access key: %w", err)
	}
	if _, err := rand.Read(secretBytes[:]); err != nil {
		return AccessKey{}, fmt.Errorf("auth: generate access key: %w", err)
	}
	return AccessKey{
		ID:       "AKIA" + base32.StdEncoding.EncodeToString(idBytes[:]),
		Secret:   base64.StdEncoding.EncodeToString(secretBytes[:]),
		UserName: userName,
	}, nil
}

// Keys creates access keys and looks them up for request verification. It
// is safe for concurrent use if its KeyStore is.
//
// Looked-up keys are kept in memory for CacheTTL, so a key deleted from
// the store keeps working on a server that used it until then.
type Keys struct {
	store     KeyStore
	sealer    *Sealer
	accountID string
	// CacheTTL is how long a looked-up key is used without reading the
	// store again: zero means DefaultKeyCacheTTL, negative disables the
	// cache.
	CacheTTL time.Duration
	// CacheSize bounds the cached keys; zero means DefaultKeyCacheSize.
	CacheSize int
	// Now is the clock of the cache; nil means time.Now.
	Now func() time.Time

	cache keyCache[lookedUpKey]
}

// lookedUpKey is a key as Lookup returns it.
type lookedUpKey struct {
	secret []byte
	caller awsproto.Caller
}

// NewKeys returns a Keys that keeps keys in st, sealed with sealer, for the
// users of the 12-digit account accountID.
func NewKeys(st KeyStore, sealer *Sealer, accountID string) *Keys {
	return &Keys{store: st, sealer: sealer, accountID: accountID}
}

// Create generates and stores a new access key for userName and returns its
// ID and secret. The secret is stored sealed and cannot be shown again.
func (k *Keys) Create(ctx context.Context, userName string) (id, secret string, err error) {
	for range 3 { // an ID collision is all but impossible; retry anyway
		key, err := NewAccessKey(userName)
		if err != nil {
			return "", "", err
		}
		sealed, err := k.sealer.Seal([]byte(key.Secret))
		if err != nil {
			return "", "", fmt.Errorf("auth: create access key: %w", err)
		}
		err = k.store.CreateAccessKey(ctx, &store.AccessKey{
			ID: key.ID, SealedSecret: sealed, UserName: userName, Created: time.Now().UTC(),
		})
		if errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("auth: create access key for %s: %w", userName, err)
		}
		return key.ID, key.Secret, nil
	}
	return "", "", errors.New("auth: create access key: generated IDs kept colliding")
}

// Lookup returns the secret of access key id (a copy the caller may
// clear) and the identity it signs for. The error wraps store.ErrNotFound
// when no such key exists. A key found is kept in memory for CacheTTL.
func (k *Keys) Lookup(ctx context.Context, id string) (secret []byte, caller awsproto.Caller, err error) {
	if !keyIDPattern.MatchString(id) {
		return nil, awsproto.Caller{}, fmt.Errorf("auth: look up access key: malformed ID: %w", store.ErrNotFound)
	}
	ttl, size := cachePolicy(k.CacheTTL, k.CacheSize)
	now := k.now()
	if ttl > 0 {
		if c, ok := k.cache.get(id, now); ok {
			return bytes.Clone(c.secret), c.caller, nil
		}
	}
	secret, caller, err = k.lookup(ctx, id)
	if err != nil || ttl < 0 {
		return secret, caller, err
	}
	k.cache.put(id, lookedUpKey{secret: bytes.Clone(secret), caller: caller}, now, ttl, size)
	return secret, caller, nil
}

func (k *Keys) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// lookup reads access key id from the store and opens its secret.
func (k *Keys) lookup(ctx context.Context, id string) (secret []byte, caller awsproto.Caller, err error) {
	key, err := k.store.GetAccessKey(ctx, id)
	if err != nil {
		return nil, awsproto.Caller{}, fmt.Errorf("auth: look up access key %s: %w", id, err)
	}
	secret, err = k.sealer.Open(key.SealedSecret)
	if err != nil {
		return nil, awsproto.Caller{}, fmt.Errorf("auth: access key %s: %w", id, err)
	}
	return secret, awsproto.Caller{
		AccessKeyID: id,
		ARN:         "arn:aws:iam::" + k.accountID + ":user/" + key.UserName,
		AccountID:   k.accountID,
	}, nil
}
