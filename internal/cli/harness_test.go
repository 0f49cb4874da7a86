package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/deploy"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/server"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// slipwayBin is the slipway binary the tests run, built once by TestMain.
var slipwayBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "slipway-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	slipwayBin = filepath.Join(dir, "slipway")
	if out, err := exec.Command("go", "build", "-o", slipwayBin, "github.com/slipway-cd/slipway/cmd/slipway").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build slipway: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testServer is a real server on a loopback listener, with its data
// directory named slipway-data under dir, where the commands run (so they
// find its credentials file by default).
type testServer struct {
	t   *testing.T
	dir string
	url string
	cp  *codepipeline.Client
	cd  *codedeploy.Client
	ext *slipwayapi.Client
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	cfg := server.Config{DataDir: filepath.Join(dir, "slipway-data"), Stdout: io.Discard, Logger: slog.New(slog.DiscardHandler),
		Engine: engine.Config{SweepInterval: 100 * time.Millisecond}, Deploy: deploy.Config{AgentLease: 10 * time.Second},
		SourcePoll: -1, S3Poll: -1}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("server: %v", err)
		}
	})
	s := &testServer{t: t, dir: dir, url: "http://" + ln.Addr().String()}
	for i := 0; ; i++ {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if i == 100 {
			t.Fatalf("the server did not become healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(cfg.DataDir, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	creds := credentials.NewStaticCredentialsProvider(id, secret, "")
	s.cp = codepipeline.New(codepipeline.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.url), Credentials: creds})
	s.cd = codedeploy.New(codedeploy.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.url), Credentials: creds})
	s.ext = slipwayapi.New(s.url, "us-east-1", creds)
	return s
}

// result is what a run of the binary printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// cmdFor returns the command running slipway with args against the server.
func (s *testServer) cmdFor(args ...string) *exec.Cmd {
	cmd := exec.Command(slipwayBin, args...)
	cmd.Dir = s.dir
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "SLIPWAY_") && !strings.HasPrefix(e, "NO_COLOR=") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, "SLIPWAY_ENDPOINT="+s.url)
	return cmd
}

// run runs slipway with args and returns what it printed.
func (s *testServer) run(args ...string) result {
	s.t.Helper()
	cmd := s.cmdFor(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		s.t.Fatalf("run slipway %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// ok runs slipway with args, fails the test unless it exits 0, and
// returns its standard output.
func (s *testServer) ok(args ...string) string {
	s.t.Helper()
	r := s.run(args...)
	if r.code != 0 {
		s.t.Fatalf("slipway %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// jsonOut runs slipway with args and -o json and decodes its output into v.
func (s *testServer) jsonOut(v any, args ...string) {
	s.t.Helper()
	out := s.ok(append(args, "-o", "json")...)
	if err := jsonDecodeStrict(out, v); err != nil {
		s.t.Fatalf("slipway %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// wantFail runs slipway with args and checks the exit code and that
// standard error is the one line want.
func (s *testServer) wantFail(code int, wantPrefix string, args ...string) result {
	s.t.Helper()
	r := s.run(args...)
	if r.code != code || !strings.HasPrefix(r.stderr, wantPrefix) || strings.Count(r.stderr, "\n") != 1 {
		s.t.Errorf("slipway %s: want exit %d and one line starting %q on stderr; got %s", strings.Join(args, " "), code, wantPrefix, r)
	}
	return r
}

// eventually retries cond until it holds or 60 s pass.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s", what, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// zipOf returns a zip archive of files (path -> content).
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeFiles writes files (path -> content; *.sh executable) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// jsonDecodeStrict decodes JSON text into v, refusing unknown members.
func jsonDecodeStrict(text string, v any) error {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
