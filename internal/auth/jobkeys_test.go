package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/smithy-go"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/store"
)

// memJobKeyStore is an in-memory JobKeyStore.
type memJobKeyStore struct {
	mu   sync.Mutex
	keys map[string]store.JobKey
}

func (s *memJobKeyStore) CreateJobKey(_ context.Context, k *store.JobKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return fmt.Errorf("job key %s: %w", k.ID, store.ErrExists)
	}
	s.keys[k.ID] = *k
	return nil
}

func (s *memJobKeyStore) GetJobKey(_ context.Context, id string) (*store.JobKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok {
		return nil, fmt.Errorf("job key %s: %w", id, store.ErrNotFound)
	}
	return &k, nil
}

func (s *memJobKeyStore) DeleteJobKey(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[id]; !ok {
		return fmt.Errorf("job key %s: %w", id, store.ErrNotFound)
	}
	delete(s.keys, id)
	return nil
}

func (s *memJobKeyStore) DeleteExpiredJobKeys(_ context.Context, t time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, k := range s.keys {
		if !k.Expires.After(t) {
			delete(s.keys, id)
			n++
		}
	}
	return n, nil
}

func TestJobKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Time{})
	sealer, err := NewSealer(bytes.Repeat([]byte{0x5a}, MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	st := &memJobKeyStore{keys: map[string]store.JobKey{}}
	var skew atomic.Int64 // how far the job keys' clock is ahead
	jk := NewJobKeys(st, sealer, testAccount)
	jk.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	f.v.JobKeys = jk
	url, callers := authServer(t, f.v, "codepipeline")
	ctx := t.Context()
	client := func(id, secret, token string) *codepipeline.Client {
		cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(id, secret, token), RetryMaxAttempts: 1}
		return codepipeline.NewFromConfig(cfg, func(o *codepipeline.Options) { o.BaseEndpoint = aws.String(url) })
	}
	wantCode := func(what string, err error, code, contains string) {
		t.Helper()
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
			t.Errorf("%s: err = %v, want an API error with code %s", what, err, code)
			return
		}
		if !strings.Contains(apiErr.ErrorMessage(), contains) {
			t.Errorf("%s: message %q does not contain %q", what, apiErr.ErrorMessage(), contains)
		}
	}

	id, secret, token, err := jk.Issue(ctx, "job-1", time.Minute)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if !strings.HasPrefix(id, "ASIA") || len(secret) != 40 || len(token) < 100 {
		t.Errorf("issued %q / %d-character secret / %d-character token", id, len(secret), len(token))
	}
	if k := st.keys[id]; k.JobID != "job-1" || bytes.Contains(k.SealedSecret, []byte(secret)) || strings.Contains(k.TokenHash, token) {
		t.Errorf("stored key %+v keeps the secret or token in clear, or names the wrong job", k)
	}
	c := client(id, secret, token)

	// The four job operations, for the key's job.
	if _, err := c.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: aws.String("job-1"), Nonce: aws.String("n")}); err != nil {
		t.Errorf("AcknowledgeJob: %v", err)
	}
	want := awsproto.Caller{AccessKeyID: id, ARN: "arn:aws:sts::123456789012:assumed-role/slipway-job/job-1", AccountID: testAccount}
	if got := <-callers; got != want {
		t.Errorf("caller = %+v, want %+v", got, want)
	}
	if _, err := c.GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String("job-1")}); err != nil {
		t.Errorf("GetJobDetails: %v", err)
	}
	if _, err := c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String("job-1")}); err != nil {
		t.Errorf("PutJobSuccessResult: %v", err)
	}
	if _, err := c.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{JobId: aws.String("job-1"),
		FailureDetails: &types.FailureDetails{Message: aws.String("m"), Type: types.FailureTypeJobFailed}}); err != nil {
		t.Errorf("PutJobFailureResult: %v", err)
	}

	// Nothing else.
	_, err = c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String("job-2")})
	wantCode("another job", err, awsproto.AccessDeniedException, "job-1")
	_, err = c.ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
	wantCode("ListPipelines", err, awsproto.AccessDeniedException, "codepipeline:ListPipelines")
	_, err = c.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: &types.ActionTypeId{Category: types.ActionCategoryInvoke,
		Owner: types.ActionOwnerAws, Provider: aws.String("Lambda"), Version: aws.String("1")}})
	wantCode("PollForJobs", err, awsproto.AccessDeniedException, "PollForJobs")
	_, err = c.PutThirdPartyJobSuccessResult(ctx, &codepipeline.PutThirdPartyJobSuccessResultInput{JobId: aws.String("job-1"), ClientToken: aws.String("c")})
	wantCode("third-party call", err, awsproto.AccessDeniedException, "job-1")

	// The session token is required and must be the key's.
	_, err = client(id, secret, "").GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String("job-1")})
	wantCode("no token", err, awsproto.UnrecognizedClientException, "session token")
	_, err = client(id, secret, token+"x").GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String("job-1")})
	wantCode("wrong token", err, awsproto.UnrecognizedClientException, "security token")
	_, err = client(id, strings.Repeat("x", 40), token).GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String("job-1")})
	wantCode("wrong secret", err, awsproto.InvalidSignatureException, "signature")
	// An ordinary access key still takes no session token.
	_, err = client(f.id, f.secret, token).ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
	wantCode("admin key with a token", err, awsproto.UnrecognizedClientException, "no session tokens")

	// Expiry.
	skew.Store(int64(2 * time.Minute))
	_, err = c.GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String("job-1")})
	wantCode("expired", err, "ExpiredTokenException", "expired")
	skew.Store(0)

	// Revocation; issuing again purges expired keys.
	if err := jk.Revoke(ctx, id); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := jk.Revoke(ctx, id); err != nil {
		t.Errorf("Revoke twice: %v", err)
	}
	_, err = c.GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String("job-1")})
	wantCode("revoked", err, awsproto.UnrecognizedClientException, "invalid")
	old, _, _, err := jk.Issue(ctx, "job-2", -time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := jk.Issue(ctx, "job-3", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetJobKey(ctx, old); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired key survived the next Issue: %v", err)
	}

	// A Verifier without JobKeys does not know job keys.
	id2, secret2, token2, err := jk.Issue(ctx, "job-4", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	plain := &Verifier{Keys: f.v.Keys}
	url2, _ := authServer(t, plain, "codepipeline")
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(id2, secret2, token2), RetryMaxAttempts: 1}
	_, err = codepipeline.NewFromConfig(cfg, func(o *codepipeline.Options) { o.BaseEndpoint = aws.String(url2) }).
		GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String("job-4")})
	wantCode("no JobKeys", err, awsproto.UnrecognizedClientException, "")
}
