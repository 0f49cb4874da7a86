package awsproto_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

type echoIn struct {
	Name  string         `json:"name,omitempty"`
	Count *int32         `json:"count,omitempty"`
	When  *awsproto.Time `json:"when,omitempty"`
	Items []string       `json:"items,omitempty"`
}

func (e *echoIn) Validate() error {
	var v awsproto.Violations
	if e.Name == "" {
		v.Null("name")
	}
	if e.Count != nil && *e.Count > 10 {
		v.Add("count", *e.Count, "Member must have value less than or equal to 10")
	}
	return v.Err()
}

type echoOut struct {
	Name string         `json:"name"`
	When *awsproto.Time `json:"when,omitempty"`
}

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	svc := awsproto.NewService("Test_20200101", "test", []string{"Echo", "Fail", "Boom", "Later"})
	awsproto.Handle(svc, "Echo", func(ctx context.Context, in *echoIn) (*echoOut, error) {
		return &echoOut{Name: in.Name, When: in.When}, nil
	})
	awsproto.Handle(svc, "Fail", func(ctx context.Context, in *echoIn) (*echoOut, error) {
		return nil, awsproto.Errorf("ThingNotFoundException", "no thing named %q", in.Name)
	})
	awsproto.Handle(svc, "Boom", func(ctx context.Context, in *echoIn) (*echoOut, error) {
		var m map[string]int
		m["x"] = 1 // panics: the server must answer 500, not crash
		return nil, nil
	})
	srv := &awsproto.Server{MaxBodyBytes: 1024}
	srv.Register(svc)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

func call(t *testing.T, ts *httptest.Server, method, target, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", awsproto.ContentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("response is not JSON: %v", err)
	}
	return resp.StatusCode, resp.Header, out
}

func TestServerErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	cases := []struct {
		name, method, target, body string
		status                     int
		code, msg                  string
	}{
		{"unknown service", "POST", "Nope_1.Echo", `{}`, 400, "UnknownOperationException", "unknown X-Amz-Target"},
		{"no target", "POST", "", `{}`, 400, "UnknownOperationException", "unknown X-Amz-Target"},
		{"unknown op", "POST", "Test_20200101.Nope", `{}`, 400, "UnknownOperationException", "unknown operation Nope"},
		{"modeled but unimplemented", "POST", "Test_20200101.Later", `{}`, 400, "UnknownOperationException", "not supported"},
		{"GET", "GET", "Test_20200101.Echo", ``, 405, "UnknownOperationException", "POST"},
		{"bad json", "POST", "Test_20200101.Echo", `{"name":`, 400, "SerializationException", "ends in the middle"},
		{"syntax", "POST", "Test_20200101.Echo", `{"name" "x"}`, 400, "SerializationException", "offset"},
		{"array body", "POST", "Test_20200101.Echo", `[1]`, 400, "SerializationException", "JSON object"},
		{"trailing data", "POST", "Test_20200101.Echo", `{"name":"a"} {}`, 400, "SerializationException", "after the JSON object"},
		{"wrong type", "POST", "Test_20200101.Echo", `{"name":"a","count":"7"}`, 400, "SerializationException", "'count' must be an integer"},
		{"wrong list type", "POST", "Test_20200101.Echo", `{"name":"a","items":"x"}`, 400, "SerializationException", "'items' must be a list"},
		{"bad timestamp", "POST", "Test_20200101.Echo", `{"name":"a","when":true}`, 400, "SerializationException", ""},
		{"invalid utf8", "POST", "Test_20200101.Echo", "{\"name\":\"\xff\"}", 400, "SerializationException", "UTF-8"},
		{"too big", "POST", "Test_20200101.Echo", `{"name":"` + strings.Repeat("a", 2000) + `"}`, 413, "RequestEntityTooLargeException", "exceeds 1024 bytes"},
		{"missing member", "POST", "Test_20200101.Echo", `{}`, 400, "ValidationException", "Value null at 'name'"},
		{"two violations", "POST", "Test_20200101.Echo", `{"count":11}`, 400, "ValidationException", "2 validation errors detected"},
		{"modeled error", "POST", "Test_20200101.Fail", `{"name":"x"}`, 400, "ThingNotFoundException", `no thing named "x"`},
		{"panic", "POST", "Test_20200101.Boom", `{"name":"x"}`, 500, "InternalFailure", "request id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			status, hdr, out := call(t, ts, c.method, c.target, c.body)
			if status != c.status {
				t.Errorf("status = %d, want %d", status, c.status)
			}
			if out["__type"] != c.code || hdr.Get("X-Amzn-ErrorType") != c.code {
				t.Errorf("__type = %v, X-Amzn-ErrorType = %q, want %s", out["__type"], hdr.Get("X-Amzn-ErrorType"), c.code)
			}
			if msg, _ := out["message"].(string); !strings.Contains(msg, c.msg) {
				t.Errorf("message = %q, want it to contain %q", msg, c.msg)
			}
			if hdr.Get("x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId header")
			}
			if hdr.Get("Content-Type") != awsproto.ContentType {
				t.Errorf("Content-Type = %q", hdr.Get("Content-Type"))
			}
		})
	}
}

func TestServerSuccess(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for _, body := range []string{`{"name":"a","when":1700000000.5}`, `{"name":"a","when":1700000000}`, `{"name":"a","when":"2023-11-14T22:13:20.5Z"}`} {
		status, _, out := call(t, ts, "POST", "Test_20200101.Echo", body)
		if status != 200 {
			t.Fatalf("%s: status %d: %v", body, status, out)
		}
		when, ok := out["when"].(float64)
		if !ok || when < 1700000000 || when > 1700000000.5 {
			t.Errorf("%s: when = %v, want epoch seconds as a JSON number", body, out["when"])
		}
	}
}

func TestTimeRoundTrip(t *testing.T) {
	t.Parallel()
	in := awsproto.Time{Time: time.UnixMilli(1427245911525).UTC()}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "1427245911.525" {
		t.Errorf("marshal = %s, want 1427245911.525", b)
	}
	var back awsproto.Time
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(in.Time) {
		t.Errorf("round trip = %v, want %v", back.Time, in.Time)
	}
	for _, bad := range []string{`"yesterday"`, `1e300`, `true`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("unmarshal %s: no error", bad)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"a","count":3,"when":1.5,"items":["x"]}`, `{"when":"2020-01-01T00:00:00Z"}`, `[`, `{"count":1e99}`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in echoIn
		err := awsproto.Decode(body, &in)
		if err != nil {
			if e := awsproto.AsError(err); e == nil || e.Code != awsproto.SerializationException {
				t.Fatalf("Decode error is not a SerializationException: %v", err)
			}
			return
		}
		_ = in.Validate()
	})
}
