package auth

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/store"
)

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "slipway.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func sealerOf(t *testing.T, b byte) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{b}, MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckMasterKey(t *testing.T) {
	ctx := t.Context()
	st := openSQLite(t)
	first, other := sealerOf(t, 1), sealerOf(t, 2)
	const path = "/srv/slipway/master.key"

	if err := CheckMasterKey(ctx, st, first, path); err != nil {
		t.Fatalf("first start: %v", err)
	}
	if _, err := st.GetSetting(ctx, MasterKeyCheckSetting); err != nil {
		t.Fatalf("check value not stored: %v", err)
	}
	if err := CheckMasterKey(ctx, st, first, path); err != nil {
		t.Fatalf("same key again: %v", err)
	}
	err := CheckMasterKey(ctx, st, other, path)
	if !errors.Is(err, ErrMasterKeyMismatch) {
		t.Fatalf("other key: %v, want ErrMasterKeyMismatch", err)
	}
	for _, want := range []string{"this database was sealed with a different master key", "copy master.key", path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	if err := st.PutSetting(ctx, MasterKeyCheckSetting, "not base64!"); err != nil {
		t.Fatal(err)
	}
	if err := CheckMasterKey(ctx, st, first, path); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Errorf("damaged check value: %v, want a not-base64 error", err)
	}
}

// TestCheckMasterKeyExistingDatabase: a database from before the check
// value has access keys; a server with another key must not seal a check
// value of its own.
func TestCheckMasterKeyExistingDatabase(t *testing.T) {
	ctx := t.Context()
	st := openSQLite(t)
	first, other := sealerOf(t, 1), sealerOf(t, 2)
	if _, _, err := NewKeys(st, first, testAccount).Create(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := CheckMasterKey(ctx, st, other, "master.key"); !errors.Is(err, ErrMasterKeyMismatch) {
		t.Fatalf("other key: %v, want ErrMasterKeyMismatch", err)
	}
	if _, err := st.GetSetting(ctx, MasterKeyCheckSetting); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a check value was stored under the wrong key: %v", err)
	}
	if err := CheckMasterKey(ctx, st, first, "master.key"); err != nil {
		t.Fatalf("the right key: %v", err)
	}
	if err := CheckMasterKey(ctx, st, other, "master.key"); !errors.Is(err, ErrMasterKeyMismatch) {
		t.Fatalf("other key after the check value: %v, want ErrMasterKeyMismatch", err)
	}
}
