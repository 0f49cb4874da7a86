// Package s3test starts a real S3-compatible server (versitygw) for tests:
// on a free loopback port, with a temporary directory as its storage,
// stopped when the test ends. .ci/run installs the binary.
package s3test

import (
	"bytes"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The S3 store's tests run against versitygw, a standalone S3-compatible
// server, started here on a free loopback port with a temporary directory
// as its storage. .ci/run installs it.
const (
	versityGWEnv     = "SLIPWAY_TEST_VERSITYGW" // path to the binary, when not on PATH
	versityGWInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	// AccessKey and SecretKey are the credentials the server accepts.
	AccessKey = "SLIPWAYTESTACCESSKEY"
	SecretKey = "slipway-test-secret-key-0123456789abcdef"
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

// Server is a running versitygw.
type Server struct {
	Endpoint string
	Client   *s3.Client
}

// Start starts versitygw for t, stopped when t ends. Without the binary it
// fails t under CI (CI=true) and skips t otherwise.
func Start(t *testing.T) *Server {
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

func runVersityGW(t *testing.T, bin, addr, data, versions string) (*Server, error) {
	var out syncBuffer
	cmd := exec.Command(bin,
		"--access", AccessKey, "--secret", SecretKey,
		"--region", "us-east-1", "--port", addr, "--quiet",
		"posix", "--versioning-dir", versions, data)
	cmd.Stdout, cmd.Stderr = &out, &out
	setProcAttr(cmd)
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

	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
	return &Server{Endpoint: endpoint, Client: client}, nil
}

// Bucket creates a bucket, with versioning enabled if asked.
func (s *Server) Bucket(t *testing.T, name string, versioned bool) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket(%s): %v", name, err)
	}
	if versioned {
		_, err := s.Client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		})
		if err != nil {
			t.Fatalf("PutBucketVersioning(%s): %v", name, err)
		}
	}
}
