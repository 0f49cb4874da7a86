package auth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/smithy-go"
	"github.com/slipway-cd/slipway/internal/awsproto"
)

// authServer serves AWS JSON 1.1 requests that only authenticate: {} on
// success, the awsproto error otherwise. Authenticated callers are sent on
// the returned channel.
func authServer(t *testing.T, v *Verifier, signingName string) (string, <-chan awsproto.Caller) {
	t.Helper()
	callers := make(chan awsproto.Caller, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", awsproto.ContentType)
		caller, err := v.Authenticate(r, body, signingName)
		if err != nil {
			e := awsproto.AsError(err)
			if e == nil {
				e = &awsproto.Error{Code: awsproto.InternalFailure, Message: err.Error(), Status: http.StatusInternalServerError}
			}
			w.Header().Set("X-Amzn-ErrorType", e.Code)
			w.WriteHeader(e.Status)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
			return
		}
		callers <- caller
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	return srv.URL, callers
}

func TestSDKClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Time{})
	url, callers := authServer(t, f.v, "codepipeline")
	client := func(id, secret string) *codepipeline.Client {
		cfg := aws.Config{
			Region:           "us-east-1",
			Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
			RetryMaxAttempts: 1,
		}
		return codepipeline.NewFromConfig(cfg, func(o *codepipeline.Options) { o.BaseEndpoint = aws.String(url) })
	}

	if _, err := client(f.id, f.secret).ListPipelines(t.Context(), &codepipeline.ListPipelinesInput{MaxResults: aws.Int32(10)}); err != nil {
		t.Fatalf("ListPipelines with the right key: %v", err)
	}
	want := awsproto.Caller{AccessKeyID: f.id, ARN: "arn:aws:iam::123456789012:user/admin", AccountID: testAccount}
	if got := <-callers; got != want {
		t.Errorf("caller = %+v, want %+v", got, want)
	}

	for _, tc := range []struct{ name, id, secret, code string }{
		{"wrong secret", f.id, strings.Repeat("x", 40), awsproto.InvalidSignatureException},
		{"unknown key", "AKIAAAAAAAAAAAAAAAAA", f.secret, awsproto.UnrecognizedClientException},
	} {
		_, err := client(tc.id, tc.secret).ListPipelines(t.Context(), &codepipeline.ListPipelinesInput{})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code {
			t.Errorf("%s: err = %v, want an API error with code %s", tc.name, err, tc.code)
		}
	}
}

// TestAWSCLI checks that requests signed by botocore verify, using the AWS
// CLI found in PATH. Set SLIPWAY_SKIP_AWSCLI=1 to skip it where the CLI is
// not installed.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("SLIPWAY_SKIP_AWSCLI") == "1" {
			t.Skip("aws CLI not found; skipped because SLIPWAY_SKIP_AWSCLI=1")
		}
		t.Fatal("the AWS CLI (aws) is not in PATH: install it (pip install awscli) or set SLIPWAY_SKIP_AWSCLI=1 to skip this test")
	}
	f := newFixture(t, time.Time{})
	url, callers := authServer(t, f.v, "codepipeline")

	// run runs `aws codepipeline list-pipelines` against the server with
	// no AWS settings from the environment except extra.
	run := func(t *testing.T, extra ...string) (string, error) {
		dir := t.TempDir()
		env := []string{
			"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-config"),
			"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-credentials"),
			"AWS_EC2_METADATA_DISABLED=true",
		}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				env = append(env, kv)
			}
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, awsBin, "codepipeline", "list-pipelines", "--endpoint-url", url, "--output", "json")
		cmd.Env = append(env, extra...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	// authenticated checks that the server authenticated one call as f.id.
	authenticated := func(t *testing.T) {
		select {
		case c := <-callers:
			if c.AccessKeyID != f.id {
				t.Errorf("authenticated caller = %+v, want key %s", c, f.id)
			}
		case <-time.After(10 * time.Second):
			t.Error("the server authenticated no request")
		}
	}

	t.Run("environment", func(t *testing.T) {
		t.Parallel()
		out, err := run(t, "AWS_ACCESS_KEY_ID="+f.id, "AWS_SECRET_ACCESS_KEY="+f.secret, "AWS_DEFAULT_REGION=us-east-1")
		if err != nil {
			t.Fatalf("aws codepipeline list-pipelines: %v\n%s", err, out)
		}
		authenticated(t)
	})
	t.Run("files", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		creds, config := filepath.Join(dir, "credentials"), filepath.Join(dir, "config")
		if err := WriteCredentialsFile(creds, f.id, f.secret, ""); err != nil {
			t.Fatal(err)
		}
		if err := WriteConfigFile(config, ""); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, "AWS_SHARED_CREDENTIALS_FILE="+creds, "AWS_CONFIG_FILE="+config)
		if err != nil {
			t.Fatalf("aws codepipeline list-pipelines: %v\n%s", err, out)
		}
		authenticated(t)
	})
	t.Run("wrong secret", func(t *testing.T) {
		t.Parallel()
		out, err := run(t, "AWS_ACCESS_KEY_ID="+f.id, "AWS_SECRET_ACCESS_KEY="+strings.Repeat("x", 40), "AWS_DEFAULT_REGION=us-east-1")
		if err == nil || !strings.Contains(out, awsproto.InvalidSignatureException) {
			t.Fatalf("aws with a wrong secret: err = %v, want failure naming %s\n%s", err, awsproto.InvalidSignatureException, out)
		}
	})

}
