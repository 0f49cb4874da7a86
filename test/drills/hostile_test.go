package drills

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// rssBoundKiB is the most resident memory the server may use while it
// refuses the hostile corpus.
const rssBoundKiB = 512 << 10

// apiAnswer is the server's answer to a raw request.
type apiAnswer struct {
	status  int
	code    string // __type
	message string
}

// rawCall sends body as it is to the AWS JSON API, SigV4-signed for
// service, with X-Amz-Target target and Content-Type contentType.
func rawCall(t *testing.T, s *serverProc, service, target, contentType string, body []byte) apiAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url()+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", contentType)
	sum := sha256.Sum256(body)
	creds, _ := s.creds().Retrieve(context.Background())
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	c := http.Client{Timeout: 60 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v (server alive: %v)\n%s", target, err, s.healthy(), s.tail())
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(data, &e)
	return apiAnswer{status: resp.StatusCode, code: e.Type, message: e.Message}
}

// checkRSS fails the test when the server's resident memory is over the
// bound, and returns it.
func checkRSS(t *testing.T, s *serverProc, after string) int {
	t.Helper()
	kib := s.rssKiB()
	if kib > rssBoundKiB {
		t.Errorf("server RSS is %d MiB after %s, over the bound of %d MiB", kib>>10, after, rssBoundKiB>>10)
	}
	return kib
}

// Drill 5a: hostile API requests, from testdata/hostile/api and generated
// in the test (huge bodies, deep nesting, huge strings), sent raw to a
// server process: each gets the model's exception with a message, never
// a 500; the server's memory stays bounded and it stays up.
func TestDrillHostileRequests(t *testing.T) {
	t.Parallel()
	s := newServer(t, filepath.Join(t.TempDir(), "data"))
	const cpPrefix = "CodePipeline_20150709."
	type tc struct {
		name, target, contentType string
		body                      []byte
		status                    int
		code                      string
	}
	var cases []tc
	files, err := filepath.Glob("testdata/hostile/api/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in testdata/hostile/api: %v", err)
	}
	for _, f := range files {
		parts := strings.Split(strings.TrimSuffix(filepath.Base(f), ".json"), ".")
		if len(parts) != 3 {
			t.Fatalf("%s: want <operation>.<case>.<ExpectedErrorCode>.json", f)
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tc{name: parts[1], target: cpPrefix + parts[0], contentType: "application/x-amz-json-1.1", body: body, code: parts[2]})
	}
	nest := func(depth int, open, close string) []byte {
		return []byte(`{"pipeline":{"name":"deep","stages":` + strings.Repeat(open, depth) + strings.Repeat(close, depth) + `}}`)
	}
	cases = append(cases,
		tc{name: "nesting-10000-arrays", target: cpPrefix + "CreatePipeline", body: nest(10_000, "[", "]"), code: "SerializationException"},
		tc{name: "nesting-1000000-arrays", target: cpPrefix + "CreatePipeline", body: nest(1_000_000, "[", "]"), code: "SerializationException"},
		tc{name: "nesting-100000-objects", target: cpPrefix + "CreatePipeline", body: nest(100_000, `{"a":`, "}"), code: "SerializationException"},
		tc{name: "huge-body-64MiB", target: cpPrefix + "CreatePipeline", body: bytes.Repeat([]byte(" "), 64<<20), status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLargeException"},
		tc{name: "huge-string-3MiB", target: cpPrefix + "GetPipeline", body: []byte(`{"name":"` + strings.Repeat("x", 3<<20) + `"}`), code: "ValidationException"},
		tc{name: "many-members-200000", target: cpPrefix + "ListPipelines", body: []byte(`{` + strings.Repeat(`"x":1,`, 200_000) + `"nextToken":"a"}`), code: "SerializationException"},
		tc{name: "wrong-content-type-xml", target: cpPrefix + "ListPipelines", contentType: "application/xml", body: []byte(`<ListPipelines/>`), code: "SerializationException"},
		tc{name: "no-target", target: "", body: []byte(`{}`), code: "UnknownOperationException"},
		tc{name: "unknown-operation", target: cpPrefix + "DeleteEverything", body: []byte(`{}`), code: "UnknownOperationException"},
		tc{name: "unknown-service", target: "Nope_20990101.ListPipelines", body: []byte(`{}`), code: "UnknownOperationException"},
	)
	peak := 0
	for _, c := range cases {
		ct := c.contentType
		if ct == "" {
			ct = "application/x-amz-json-1.1"
		}
		a := rawCall(t, s, "codepipeline", c.target, ct, c.body)
		want := c.status
		if want == 0 {
			want = http.StatusBadRequest
		}
		if a.code != c.code || a.status != want || a.message == "" {
			t.Errorf("%s: HTTP %d %s %q; want HTTP %d %s with a message", c.name, a.status, a.code, a.message, want, c.code)
		} else {
			msg := a.message
			if len(msg) > 160 {
				msg = msg[:160] + "..."
			}
			t.Logf("%s: %s: %s", c.name, a.code, msg)
		}
		peak = max(peak, checkRSS(t, s, c.name))
	}
	if !s.healthy() {
		t.Fatalf("the server is not healthy after the hostile requests:\n%s", s.tail())
	}
	t.Logf("server peak RSS over %d hostile requests: %d MiB", len(cases), peak>>10)
}

// Drill 5b: hostile buildspecs (YAML bombs, recursive aliases, huge,
// binary) as inline buildspecs of CreateBuildProject: each is refused with
// InvalidInputException and a message; memory stays bounded.
func TestDrillHostileBuildspecs(t *testing.T) {
	t.Parallel()
	s := newServer(t, filepath.Join(t.TempDir(), "data"))
	ext := s.ext()
	specs := map[string]string{}
	files, _ := filepath.Glob("testdata/hostile/buildspec/*.yml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		specs[filepath.Base(f)] = string(b)
	}
	bin := make([]byte, 4096)
	for i := range bin {
		bin[i] = byte(i*7 + i/256)
	}
	specs["binary"] = string(bin)
	specs["huge-60KiB-of-anchors"] = "version: 0.2\n" + strings.Repeat("x: &x [1]\n", 6000)
	specs["deep-flow-nesting"] = "version: 0.2\nphases: " + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + "\n"
	specs["over-the-limit"] = "version: 0.2\n#" + strings.Repeat("x", 70_000) + "\n"
	if len(specs) < 6 {
		t.Fatalf("corpus too small: %d buildspecs", len(specs))
	}
	i := 0
	for name, spec := range specs {
		i++
		_, err := ext.CreateBuildProject(context.Background(), &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{
			Name: "hostile-" + strings.Repeat("x", i), Buildspec: spec}})
		code := slipwayapi.ErrorCode(err)
		if err == nil || (code != "InvalidInputException" && code != "ValidationException") {
			t.Errorf("buildspec %s: CreateBuildProject = %v, want InvalidInputException or ValidationException", name, err)
		} else {
			t.Logf("buildspec %s: %v", name, firstLine(err.Error()))
		}
		checkRSS(t, s, "buildspec "+name)
	}
	if !s.healthy() {
		t.Fatalf("the server is not healthy after the hostile buildspecs:\n%s", s.tail())
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
