package auth

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/slipway-cd/slipway/internal/store"
)

func TestNewAccessKey(t *testing.T) {
	t.Parallel()
	idRE := regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	secretRE := regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
	seen := map[string]bool{}
	for range 100 {
		k, err := NewAccessKey("deploy-bot@ci")
		if err != nil {
			t.Fatal(err)
		}
		if !idRE.MatchString(k.ID) || !secretRE.MatchString(k.Secret) || k.UserName != "deploy-bot@ci" {
			t.Fatalf("bad key %s / %d-char secret / %q", k.ID, len(k.Secret), k.UserName)
		}
		if seen[k.ID] || seen[k.Secret] {
			t.Fatal("repeated ID or secret")
		}
		seen[k.ID], seen[k.Secret] = true, true
	}
	for _, name := range []string{"", "a b", "x/y", string(make([]byte, 65))} {
		if _, err := NewAccessKey(name); err == nil {
			t.Errorf("NewAccessKey(%q) succeeded", name)
		}
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	st := newMemKeyStore()
	keys := NewKeys(st, newTestSealer(t), testAccount)
	id, secret, err := keys.Create(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.GetAccessKey(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored.SealedSecret, []byte(secret)) || stored.UserName != "alice" || stored.Created.IsZero() {
		t.Fatalf("stored key = %+v", stored)
	}

	got, caller, err := keys.Lookup(t.Context(), id)
	if err != nil || string(got) != secret {
		t.Fatalf("Lookup = %q, %v", got, err)
	}
	if caller.AccessKeyID != id || caller.ARN != "arn:aws:iam::123456789012:user/alice" || caller.AccountID != testAccount {
		t.Errorf("caller = %+v", caller)
	}
	for _, missing := range []string{"AKIAAAAAAAAAAAAAAAAA", "", "short", "AKIA'; DROP TABLE--"} {
		if _, _, err := keys.Lookup(t.Context(), missing); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Lookup(%q) err = %v, want store.ErrNotFound", missing, err)
		}
	}
	other := NewKeys(st, newTestSealer(t), testAccount) // wrong master key
	if _, _, err := other.Lookup(t.Context(), id); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Lookup under another master key: err = %v, want an open error", err)
	}
}

// collidingStore reports the first insert as a duplicate.
type collidingStore struct {
	*memKeyStore
	collided bool
}

func (s *collidingStore) CreateAccessKey(ctx context.Context, k *store.AccessKey) error {
	if !s.collided {
		s.collided = true
		return store.ErrExists
	}
	return s.memKeyStore.CreateAccessKey(ctx, k)
}

func TestKeysCreateRetriesCollision(t *testing.T) {
	t.Parallel()
	st := &collidingStore{memKeyStore: newMemKeyStore()}
	id, _, err := NewKeys(st, newTestSealer(t), testAccount).Create(t.Context(), "bob")
	if err != nil || !st.collided {
		t.Fatalf("Create = %s, %v (collided %v)", id, err, st.collided)
	}
}
