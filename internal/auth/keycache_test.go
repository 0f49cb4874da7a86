package auth

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/smithy-go"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/store"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func wantAPIError(t *testing.T, what string, err error, code string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
		t.Fatalf("%s: err = %v, want %s", what, err, code)
	}
}

func cpClient(url, id, secret, token string) *codepipeline.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(id, secret, token), RetryMaxAttempts: 1}
	return codepipeline.NewFromConfig(cfg, func(o *codepipeline.Options) { o.BaseEndpoint = aws.String(url) })
}

// TestKeyCacheDeletedKey: a key deleted from the database keeps working
// on a server that has it cached until CacheTTL has passed, then is
// refused.
func TestKeyCacheDeletedKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "slipway.db")
	st, err := store.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := &fakeClock{t: time.Now()}
	keys := NewKeys(st, sealerOf(t, 1), testAccount)
	keys.Now = clock.Now
	id, secret, err := keys.Create(t.Context(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	url, callers := authServer(t, &Verifier{Keys: keys}, "codepipeline")
	c := cpClient(url, id, secret, "")
	ctx := t.Context()

	if _, err := c.ListPipelines(ctx, &codepipeline.ListPipelinesInput{}); err != nil {
		t.Fatalf("ListPipelines with a new key: %v", err)
	}
	if got := <-callers; got.AccessKeyID != id || !strings.HasSuffix(got.ARN, ":user/ci") {
		t.Fatalf("caller = %+v", got)
	}

	// Delete the key behind the server's back, as another server would.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if res, err := db.ExecContext(ctx, `DELETE FROM access_keys WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("deleted %d rows", n)
	}

	clock.Advance(DefaultKeyCacheTTL - time.Second)
	if _, err := c.ListPipelines(ctx, &codepipeline.ListPipelinesInput{}); err != nil {
		t.Fatalf("within the TTL the cached key should still verify: %v", err)
	}
	<-callers
	clock.Advance(time.Second)
	_, err = c.ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
	wantAPIError(t, "deleted key after the TTL", err, awsproto.UnrecognizedClientException)

	// A cache hit hands out a copy: the Verifier clears the secret it gets.
	id2, secret2, err := keys.Create(ctx, "ci2")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, _, err := keys.Lookup(ctx, id2)
		if err != nil || string(got) != secret2 {
			t.Fatalf("Lookup = %q, %v", got, err)
		}
		clear(got)
	}

	// Without a cache the deletion is seen at once.
	keys.CacheTTL = -1
	if _, err := db.ExecContext(ctx, `DELETE FROM access_keys WHERE id = ?`, id2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.Lookup(ctx, id2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Lookup of a deleted key without a cache: %v", err)
	}
}

// TestKeyCacheRevokedJobKey: a job key revoked on another server stops
// working here within CacheTTL; revoked here, at once.
func TestKeyCacheRevokedJobKey(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	sealer := sealerOf(t, 2)
	clock := &fakeClock{t: time.Now()}
	here := NewJobKeys(st, sealer, testAccount)
	here.Now = clock.Now
	there := NewJobKeys(st, sealer, testAccount) // another server on the database
	f := newFixture(t, time.Time{})
	f.v.JobKeys = here
	url, callers := authServer(t, f.v, "codepipeline")
	ctx := t.Context()
	get := func(c *codepipeline.Client, job string) error {
		_, err := c.GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String(job)})
		if err == nil {
			<-callers
		}
		return err
	}

	id, secret, token, err := here.Issue(ctx, "job-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := cpClient(url, id, secret, token)
	if err := get(c, "job-1"); err != nil {
		t.Fatalf("GetJobDetails: %v", err)
	}
	if err := there.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	clock.Advance(DefaultKeyCacheTTL / 2)
	if err := get(c, "job-1"); err != nil {
		t.Fatalf("within the TTL the cached job key should still verify: %v", err)
	}
	clock.Advance(DefaultKeyCacheTTL / 2)
	wantAPIError(t, "job key revoked elsewhere, after the TTL", get(c, "job-1"), awsproto.UnrecognizedClientException)

	// Revoked through the JobKeys that verifies: refused at once.
	id, secret, token, err = here.Issue(ctx, "job-2", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c = cpClient(url, id, secret, token)
	if err := get(c, "job-2"); err != nil {
		t.Fatalf("GetJobDetails: %v", err)
	}
	if err := here.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, "job key revoked here", get(c, "job-2"), awsproto.UnrecognizedClientException)

	// Expiry is checked on every request, cached or not.
	id, secret, token, err = here.Issue(ctx, "job-3", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c = cpClient(url, id, secret, token)
	if err := get(c, "job-3"); err != nil {
		t.Fatalf("GetJobDetails: %v", err)
	}
	clock.Advance(10 * time.Second)
	wantAPIError(t, "expired job key", get(c, "job-3"), "ExpiredTokenException")
}

func TestKeyCacheBound(t *testing.T) {
	t.Parallel()
	var c keyCache[int]
	now := time.Unix(1000, 0)
	for i := range 10 {
		c.put(string(rune('a'+i)), i, now, time.Minute, 4)
		if c.len() > 4 {
			t.Fatalf("cache holds %d entries, bound 4", c.len())
		}
	}
	if v, ok := c.get("j", now); !ok || v != 9 {
		t.Fatalf("latest entry: %v, %v", v, ok)
	}
	if _, ok := c.get("j", now.Add(time.Minute)); ok {
		t.Fatal("an entry outlived its TTL")
	}
	// Expired entries make room before live ones are dropped.
	var d keyCache[int]
	d.put("old", 1, now, time.Second, 2)
	d.put("live", 2, now, time.Minute, 2)
	d.put("new", 3, now.Add(2*time.Second), time.Minute, 2)
	if _, ok := d.get("live", now.Add(2*time.Second)); !ok {
		t.Fatal("a live entry was dropped while an expired one could go")
	}
	if _, ok := d.get("old", now); ok {
		t.Fatal("the expired entry is still there")
	}
}
