package auth

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/store"
)

const testAccount = "123456789012"

// memKeyStore is an in-memory KeyStore.
type memKeyStore struct {
	mu   sync.Mutex
	keys map[string]store.AccessKey
}

func newMemKeyStore() *memKeyStore { return &memKeyStore{keys: map[string]store.AccessKey{}} }

func (s *memKeyStore) CreateAccessKey(_ context.Context, k *store.AccessKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return fmt.Errorf("access key %s: %w", k.ID, store.ErrExists)
	}
	s.keys[k.ID] = *k
	return nil
}

func (s *memKeyStore) GetAccessKey(_ context.Context, id string) (*store.AccessKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok {
		return nil, fmt.Errorf("access key %s: %w", id, store.ErrNotFound)
	}
	return &k, nil
}

// syncBuffer is a bytes.Buffer safe for concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a Verifier with one access key for user "admin".
type fixture struct {
	v          *Verifier
	id, secret string
	logs       *syncBuffer
}

// newFixture returns a fixture whose clock is now (the real clock if zero).
func newFixture(t testing.TB, now time.Time) fixture {
	t.Helper()
	sealer, err := NewSealer(bytes.Repeat([]byte{0x5a}, MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	keys := NewKeys(newMemKeyStore(), sealer, testAccount)
	id, secret, err := keys.Create(t.Context(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	v := &Verifier{Keys: keys, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if !now.IsZero() {
		v.Now = func() time.Time { return now }
	}
	return fixture{v: v, id: id, secret: secret, logs: logs}
}
