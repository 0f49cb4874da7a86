package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/store"
)

// testConsole is a console over a real SQLite store and real access keys.
func testConsole(t *testing.T) (*Console, *httptest.Server, store.Store, string, string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "console.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sl := testSealer(t, 7)
	keys := auth.NewKeys(st, sl, "123456789012")
	id, secret, err := keys.Create(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{API: &awsproto.Server{}, Keys: keys, Sealer: sl, Events: st, Agents: st, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(c.Handler())
	t.Cleanup(ts.Close)
	return c, ts, st, id, secret
}

func signIn(t *testing.T, ts *httptest.Server, id, secret string) *http.Cookie {
	t.Helper()
	res, err := http.Post(ts.URL+"/console/login", "application/json", strings.NewReader(fmt.Sprintf(`{"accessKeyId":%q,"secretAccessKey":%q}`, id, secret)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	t.Fatalf("sign-in set no session cookie (HTTP %d)", res.StatusCode)
	return nil
}

// Shutdown ends open event streams, so that a graceful shutdown of the
// HTTP server does not wait for them.
func TestShutdownEndsStreams(t *testing.T) {
	c, ts, st, id, secret := testConsole(t)
	ck := signIn(t, ts, id, secret)
	if err := st.InTx(context.Background(), func(q store.Queries) error {
		return q.AppendEvent(context.Background(), &store.Event{Time: time.Now(), Type: "Test Event", Pipeline: "p", Detail: []byte(`{"n":1}`)})
	}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/console/events?after=0", nil)
	req.AddCookie(ck)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	var got []string
	for lines.Scan() && len(got) < 2 {
		if strings.HasPrefix(lines.Text(), "id: ") || strings.HasPrefix(lines.Text(), "data: {\"id\"") {
			got = append(got, lines.Text())
		}
	}
	if len(got) != 2 || got[0] != "id: 1" || !strings.Contains(got[1], `"detailType":"Test Event"`) {
		t.Fatalf("stream = %q, want event 1", got)
	}
	ended := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, res.Body); ended <- err }()
	c.Shutdown()
	c.Shutdown() // twice is fine
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("stream ended with %v, want a clean end", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the event stream is still open after Shutdown")
	}
}

func TestAgentsLastSeen(t *testing.T) {
	_, ts, st, id, secret := testConsole(t)
	ck := signIn(t, ts, id, secret)
	at := time.Unix(1_800_000_000, 0)
	if err := st.RecordAgentSeen(context.Background(), "web-1", at); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query  string
		status int
		body   string
	}{
		{"instance=web-1&instance=web-2", 200, `{"lastSeen":{"web-1":1800000000,"web-2":null}}`},
		{"", 200, `{"lastSeen":{}}`},
		{"instance=a:b", 400, `"__type":"ValidationException"`},
		{"instance=" + strings.Repeat("x", 101), 400, `"__type":"ValidationException"`},
		{strings.Repeat("instance=a&", 101), 400, `at most 100`},
	} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/console/agents?"+tc.query, nil)
		req.AddCookie(ck)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.Contains(string(data), tc.body) {
			t.Errorf("agents?%.40s = %d %s, want %d with %s", tc.query, res.StatusCode, data, tc.status, tc.body)
		}
	}
	res, err := http.Get(ts.URL + "/console/agents?instance=web-1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("agents without a session = %d, want 401", res.StatusCode)
	}
}

// The assets are embedded and served with a content type; unknown paths
// under /console/static/ are 404, other methods 405.
func TestAssets(t *testing.T) {
	_, ts, _, _, _ := testConsole(t)
	for _, tc := range []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/console/static/app.js", 200, "text/javascript"},
		{"GET", "/console/static/app.css", 200, "text/css"},
		{"GET", "/console/login", 200, "text/html"},
		{"GET", "/console/static/nope.js", 404, ""},
		{"PUT", "/console/pipelines", 405, "application/json"},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.HasPrefix(res.Header.Get("Content-Type"), tc.ctype) {
			t.Errorf("%s %s = %d %s, want %d %s", tc.method, tc.path, res.StatusCode, res.Header.Get("Content-Type"), tc.status, tc.ctype)
		}
	}
}
