package hostcmd

import (
	"crypto"
	"io"
	"sync"
	"sync/atomic"
	"testing"
)

// countingKey is a real signing key that counts its signatures.
type countingKey struct {
	crypto.Signer
	n atomic.Int64
}

func (k *countingKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.n.Add(1)
	return k.Signer.Sign(r, digest, opts)
}

func newCountingSigner(t *testing.T) (*Signer, *countingKey) {
	t.Helper()
	s, err := NewSigner("cache")
	if err != nil {
		t.Fatal(err)
	}
	k := &countingKey{Signer: s.Key}
	return &Signer{Key: k, Cert: s.Cert}, k
}

func specOf(deployment string) *Spec {
	return &Spec{DeploymentId: deployment, ApplicationName: "app", DeploymentGroupName: "g",
		Revision: Revision{RevisionType: RevisionS3, S3Revision: &S3Revision{Bucket: "b", Key: deployment + ".zip", BundleType: "zip"}}}
}

func TestSpecCacheSignsOncePerContent(t *testing.T) {
	s, key := newCountingSigner(t)
	c := NewSpecCache(s, 2)

	first, err := c.Sign(specOf("d-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Sign(specOf("d-1")) // equal content, another value
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatal("the same specification got a different envelope")
	}
	if n := key.n.Load(); n != 1 {
		t.Fatalf("signatures = %d after signing one specification twice, want 1", n)
	}
	got, err := VerifyWith(again, s.Cert)
	if err != nil {
		t.Fatalf("cached envelope does not verify: %v", err)
	}
	if got.DeploymentId != "d-1" || got.Revision.S3Revision.Key != "d-1.zip" {
		t.Fatalf("cached envelope holds %+v", got)
	}

	other, err := c.Sign(specOf("d-2"))
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Fatal("different specifications share an envelope")
	}
	if got, err := VerifyWith(other, s.Cert); err != nil || got.DeploymentId != "d-2" {
		t.Fatalf("second specification: %+v, %v", got, err)
	}

	// A third content evicts the least recently used (d-1); d-2 stays.
	if _, err := c.Sign(specOf("d-3")); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 2 {
		t.Fatalf("cache holds %d envelopes, bound is 2", c.Len())
	}
	before := key.n.Load()
	if _, err := c.Sign(specOf("d-2")); err != nil {
		t.Fatal(err)
	}
	if key.n.Load() != before {
		t.Fatal("a recently used specification was signed again")
	}
	if _, err := c.Sign(specOf("d-1")); err != nil {
		t.Fatal(err)
	}
	if key.n.Load() != before+1 {
		t.Fatal("an evicted specification was not signed again")
	}
}

func TestSpecCacheConcurrentRequestsShareOneSignature(t *testing.T) {
	s, key := newCountingSigner(t)
	c := NewSpecCache(s, 0)
	const n = 16
	envs := make([]Envelope, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { envs[i], errs[i] = c.Sign(specOf("d-many")) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if envs[i] != envs[0] {
			t.Fatalf("request %d got another envelope", i)
		}
	}
	if got := key.n.Load(); got != 1 {
		t.Fatalf("signatures = %d for %d concurrent requests of one specification, want 1", got, n)
	}
}

// failingKey refuses to sign.
type failingKey struct{ crypto.Signer }

func (failingKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, io.ErrUnexpectedEOF
}

func TestSpecCacheDoesNotKeepFailures(t *testing.T) {
	s, _ := newCountingSigner(t)
	c := NewSpecCache(&Signer{Key: failingKey{s.Key}, Cert: s.Cert}, 0)
	if _, err := c.Sign(specOf("d-x")); err == nil {
		t.Fatal("signing with a failing key succeeded")
	}
	if c.Len() != 0 {
		t.Fatalf("a failed signature stayed in the cache (%d entries)", c.Len())
	}
}
