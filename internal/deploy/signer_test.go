package deploy

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/hostcmd"
	"github.com/slipway-cd/slipway/internal/store"
)

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func testSealer(t *testing.T, b byte) *auth.Sealer {
	t.Helper()
	s, err := auth.NewSealer(bytes.Repeat([]byte{b}, auth.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSignerSharedThroughStore: the first server's key (imported from its
// data directory) is the one every later server gets, whatever files its
// own data directory holds.
func TestSignerSharedThroughStore(t *testing.T) {
	ctx := t.Context()
	db := filepath.Join(t.TempDir(), "slipway.db")
	sealer := testSealer(t, 7)
	dirA, dirB := t.TempDir(), t.TempDir()
	filesA, err := hostcmd.LoadOrCreateSigner(dirA) // an installation from before
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hostcmd.LoadOrCreateSigner(dirB); err != nil {
		t.Fatal(err)
	}

	a, err := LoadOrCreateSigner(ctx, openStore(t, db), sealer, dirA, nil)
	if err != nil {
		t.Fatalf("server A: %v", err)
	}
	if !a.Cert.Equal(filesA.Cert) {
		t.Fatal("server A did not import its data directory's key")
	}
	b, err := LoadOrCreateSigner(ctx, openStore(t, db), sealer, dirB, nil)
	if err != nil {
		t.Fatalf("server B: %v", err)
	}
	if !b.Cert.Equal(a.Cert) {
		t.Fatal("server B signs with another key than server A")
	}
	env, err := b.Sign(&hostcmd.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hostcmd.VerifyWith(env, filesA.Cert); err != nil {
		t.Fatalf("an agent trusting A's old certificate rejects B's signature: %v", err)
	}

	if _, err := LoadOrCreateSigner(ctx, openStore(t, db), testSealer(t, 8), t.TempDir(), nil); err == nil {
		t.Fatal("a server with another master key opened the signing key")
	}
}

// TestSignerConcurrentFirstStart: servers starting together on a new
// database (no key files) end up with one key.
func TestSignerConcurrentFirstStart(t *testing.T) {
	ctx := t.Context()
	db := filepath.Join(t.TempDir(), "slipway.db")
	sealer := testSealer(t, 7)
	const n = 3
	stores := make([]store.Store, n)
	for i := range stores {
		stores[i] = openStore(t, db)
	}
	signers := make([]*hostcmd.Signer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { signers[i], errs[i] = LoadOrCreateSigner(ctx, stores[i], sealer, t.TempDir(), nil) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("server %d: %v", i, errs[i])
		}
		if !signers[i].Cert.Equal(signers[0].Cert) {
			t.Fatalf("server %d has another key than server 0", i)
		}
	}
	again, err := LoadOrCreateSigner(ctx, stores[0], sealer, t.TempDir(), nil)
	if err != nil || !again.Cert.Equal(signers[0].Cert) {
		t.Fatalf("restart: %v, or another key", err)
	}
}
