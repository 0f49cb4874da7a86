package artifact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The S3 store's tests run against versitygw, a standalone S3-compatible
// server, started here on a free loopback port with a temporary directory
// as its storage. .ci/run installs it.
const (
	versityGWEnv     = "SLIPWAY_TEST_VERSITYGW" // path to the binary, when not on PATH
	versityGWInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	testAccessKey    = "SLIPWAYTESTACCESSKEY"
	testSecretKey    = "slipway-test-secret-key-0123456789abcdef"
)

// findVersityGW returns the versitygw binary. When there is none it fails
// t under CI (CI=true: CI must never skip these silently) and skips t
// otherwise.
func findVersityGW(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(versityGWEnv); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if p := filepath.Join(build.Default.GOPATH, "bin", "versitygw"); build.Default.GOPATH != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("versitygw not found and CI=true: CI must run the S3 store tests (.ci/run installs it with %s)", versityGWInstall)
	}
	t.Skipf("S3 store tests skipped: versitygw not found on PATH, in $GOPATH/bin or in $%s; install it with %s", versityGWEnv, versityGWInstall)
	return ""
}

// s3Server is a running versitygw.
type s3Server struct {
	endpoint string
	client   *s3.Client
	store    *S3Store
}

// startS3Server starts versitygw for t, stopped when t ends.
func startS3Server(t *testing.T) *s3Server {
	t.Helper()
	bin := findVersityGW(t)
	dir := t.TempDir()
	data, versions := filepath.Join(dir, "data"), filepath.Join(dir, "versions")
	for _, d := range []string{data, versions} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := freeLoopbackAddr()
		if err != nil {
			t.Fatal(err)
		}
		srv, err := runVersityGW(t, bin, addr, data, versions)
		if err == nil {
			return srv
		}
		lastErr = err // most likely the port was taken meanwhile
	}
	t.Fatalf("start versitygw: %v", lastErr)
	return nil
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// syncBuffer collects a process's output for error messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 64<<10 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runVersityGW(t *testing.T, bin, addr, data, versions string) (*s3Server, error) {
	var out syncBuffer
	cmd := exec.Command(bin,
		"--access", testAccessKey, "--secret", testSecretKey,
		"--region", "us-east-1", "--port", addr, "--quiet",
		"posix", "--versioning-dir", versions, data)
	cmd.Stdout, cmd.Stderr = &out, &out
	setTestProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	// Ready once it answers HTTP (403 to an unsigned request).
	endpoint := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("versitygw exited (%v) before serving:\n%s", err, out.String())
		default:
		}
		resp, err := http.Get(endpoint + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("versitygw not serving on %s after 30s (%v):\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("versitygw output:\n%s", out.String())
		}
	})

	store, err := NewS3Store(t.Context(), S3Config{
		Endpoint: endpoint, Region: "us-east-1",
		AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey,
		SpoolDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &s3Server{endpoint: endpoint, client: store.Client(), store: store}, nil
}

// bucket creates a bucket, with versioning enabled if asked.
func (s *s3Server) bucket(t *testing.T, name string, versioned bool) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket(%s): %v", name, err)
	}
	if versioned {
		_, err := s.client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		})
		if err != nil {
			t.Fatalf("PutBucketVersioning(%s): %v", name, err)
		}
	}
}

func TestS3Store(t *testing.T) {
	t.Parallel()
	srv := startS3Server(t)
	srv.bucket(t, "slipway-versioned", true)
	srv.bucket(t, "slipway-plain", false)

	t.Run("Conformance/Versioned", func(t *testing.T) {
		t.Parallel()
		runConformance(t, storeUnderTest{
			store: srv.store, bucket: "slipway-versioned", missingBucket: "no-such-bucket",
			versioned: true,
		})
	})
	t.Run("Conformance/Unversioned", func(t *testing.T) {
		t.Parallel()
		runConformance(t, storeUnderTest{
			store: srv.store, bucket: "slipway-plain", missingBucket: "no-such-bucket",
		})
	})

	t.Run("SHA256Metadata", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		info, err := srv.store.Put(ctx, "slipway-plain", "meta/obj", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		// What another S3 client sees: the sum in x-amz-meta-sha256.
		h, err := srv.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("slipway-plain"), Key: aws.String("meta/obj")})
		if err != nil {
			t.Fatal(err)
		}
		if got := metaSum(h.Metadata); got != info.SHA256 || got != sha256Hex([]byte("hello")) {
			t.Errorf("x-amz-meta-sha256 = %q (metadata %v), want %q", got, h.Metadata, info.SHA256)
		}
	})

	t.Run("ForeignObject", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		// Written by something else (say, a user's upload the S3 source
		// action watches): no recorded sum.
		_, err := srv.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("slipway-plain"), Key: aws.String("foreign/obj"), Body: strings.NewReader("theirs")})
		if err != nil {
			t.Fatal(err)
		}
		h, err := srv.store.Head(ctx, "slipway-plain", "foreign/obj")
		if err != nil {
			t.Fatal(err)
		}
		if h.SHA256 != "" || h.Size != 6 || h.ETag == "" {
			t.Errorf("Head(foreign object) = %+v; want no SHA256, size 6, an ETag", h)
		}
	})

	t.Run("WrongCredentials", func(t *testing.T) {
		t.Parallel()
		bad, err := NewS3Store(t.Context(), S3Config{Endpoint: srv.endpoint, AccessKeyID: testAccessKey, SecretAccessKey: "wrong"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.Head(t.Context(), "slipway-plain", "meta/obj")
		if err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Head with a wrong secret = %v, want an access error", err)
		}
	})
}

func TestS3StoreUnreachable(t *testing.T) {
	t.Parallel()
	addr, err := freeLoopbackAddr() // nothing listens there now
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := NewS3Store(ctx, S3Config{Endpoint: "http://" + addr, AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(ctx, "bucket", "key", strings.NewReader("x"))
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "bucket/key") {
		t.Errorf("Put to a closed port = %v, want a connection error naming the object", err)
	}
}
