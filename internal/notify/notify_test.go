package notify_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/notify"
	"github.com/slipway-cd/slipway/internal/store"
)

// fixture is a store, a sealer and a notifier's logs.
type fixture struct {
	st     store.Store
	sealer *auth.Sealer
	logs   *lockedBuffer
	logger *slog.Logger
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "slipway.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, auth.MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	sealer, err := auth.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	return &fixture{st: st, sealer: sealer, logs: logs,
		logger: slog.New(slog.NewTextHandler(io.MultiWriter(logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

// target registers a notification target.
func (f *fixture) target(t *testing.T, name, url, secret string) {
	t.Helper()
	tg := &store.NotificationTarget{Name: name, URL: url}
	if secret != "" {
		var err error
		if tg.SealedSecret, err = f.sealer.Seal([]byte(secret)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.st.PutNotificationTarget(t.Context(), tg); err != nil {
		t.Fatal(err)
	}
}

// approvalEvent is an engine.EventApproval event as the engine stores it.
func approvalEvent(arn, action string) *store.Event {
	msg := engine.ApprovalMessage{Region: "us-east-1", ConsoleLink: "http://127.0.0.1:7700/console/pipelines/P",
		Approval: engine.ApprovalDetails{PipelineName: "P", StageName: "Review", ActionName: action, Token: "tok-" + action,
			Expires: "2030-01-08T10:00Z", ExternalEntityLink: "http://example.com", CustomData: "please"}}
	env := engine.Envelope{Version: "0", ID: "e-" + action, DetailType: engine.EventApproval, Source: "aws.codepipeline",
		Account: "123456789012", Time: "2030-01-01T10:00:00Z", Region: "us-east-1", Resources: []string{"arn:aws:codepipeline:us-east-1:123456789012:P"},
		Detail: map[string]any{"notificationArn": arn, "message": msg}}
	b, _ := json.Marshal(env)
	return &store.Event{Time: time.Now(), Type: engine.EventApproval, Pipeline: "P", ExecutionID: "x", Detail: b}
}

func (f *fixture) append(t *testing.T, e *store.Event) int64 {
	t.Helper()
	if err := f.st.AppendEvent(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// run starts n; the returned function stops it and waits.
func run(t *testing.T, n *notify.Notifier) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := n.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// fast are timers for tests.
func fast() notify.Config {
	return notify.Config{PollInterval: 10 * time.Millisecond, Backoff: 10 * time.Millisecond, AttemptTimeout: 2 * time.Second}
}

type request struct {
	header http.Header
	body   []byte
}

// listener answers with the statuses in turn (the last one from then on).
type listener struct {
	*httptest.Server
	mu       sync.Mutex
	reqs     []request
	statuses []int
}

func newListener(t *testing.T, statuses ...int) *listener {
	l := &listener{statuses: statuses}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		l.mu.Lock()
		l.reqs = append(l.reqs, request{header: r.Header.Clone(), body: body})
		status := l.statuses[min(len(l.reqs), len(l.statuses))-1]
		l.mu.Unlock()
		if status/100 == 3 {
			w.Header().Set("Location", "/moved")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *listener) requests() []request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]request(nil), l.reqs...)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fixture) cursor(t *testing.T) int64 {
	t.Helper()
	v, err := f.st.GetSetting(t.Context(), notify.CursorSetting)
	if err != nil {
		t.Fatalf("read cursor: %v", err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantCursor(t *testing.T, f *fixture, want int64) {
	t.Helper()
	eventually(t, "cursor "+strconv.FormatInt(want, 10), func() bool { return f.cursor(t) == want })
}

func TestTargetName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:sns:us-east-1:123456789012:MyApprovalTopic": "MyApprovalTopic",
		"MyApprovalTopic": "MyApprovalTopic",
		"a:b:":            "",
		"":                "",
	} {
		if got := notify.TargetName(arn); got != want {
			t.Errorf("TargetName(%q) = %q, want %q", arn, got, want)
		}
	}
}

// A delivery that fails with 5xx is retried; the body and headers are the
// same on every attempt, signed when the target has a secret.
func TestRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := newListener(t, 503, 500, 204)
	f.target(t, "Topic", l.URL+"/hook", "s3cret")
	n := notify.New(f.st, f.sealer, fast(), f.logger)
	if err := n.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	run(t, n)
	id := f.append(t, approvalEvent("arn:aws:sns:us-east-1:123456789012:Topic", "A"))
	eventually(t, "three attempts", func() bool { return len(l.requests()) == 3 })
	wantCursor(t, f, id)

	var stored struct {
		Detail struct {
			Message json.RawMessage `json:"message"`
		} `json:"detail"`
	}
	_ = json.Unmarshal(approvalEvent("x", "A").Detail, &stored)
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write(stored.Detail.Message)
	wantSig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	for i, r := range l.requests() {
		if !bytes.Equal(r.body, stored.Detail.Message) {
			t.Errorf("attempt %d body = %s, want the event's message %s", i, r.body, stored.Detail.Message)
		}
		if r.header.Get("Content-Type") != "application/json" || r.header.Get(notify.SignatureHeader) != wantSig ||
			r.header.Get(notify.EventIDHeader) != strconv.FormatInt(id, 10) {
			t.Errorf("attempt %d headers = %v", i, r.header)
		}
	}
	if got := notify.Sign([]byte("s3cret"), stored.Detail.Message); got != wantSig {
		t.Errorf("Sign = %s, want %s", got, wantSig)
	}
}

// Failed deliveries are given up after Attempts (5xx) or at once (4xx,
// 3xx: redirects are not followed); unknown targets are skipped; the
// notifier moves on to the next event each time.
func TestGivesUpAndMovesOn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	down := newListener(t, 500)
	gone := newListener(t, 404)
	moved := newListener(t, 302)
	ok := newListener(t, 200)
	f.target(t, "Down", down.URL, "")
	f.target(t, "Gone", gone.URL, "")
	f.target(t, "Moved", moved.URL, "")
	f.target(t, "Ok", ok.URL, "")
	cfg := fast()
	cfg.Attempts = 2
	n := notify.New(f.st, f.sealer, cfg, f.logger)
	if err := n.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, arn := range []string{"Down", "arn:aws:sns:us-east-1:1:Gone", "Moved", "arn:aws:sns:us-east-1:1:Missing"} {
		f.append(t, approvalEvent(arn, arn))
	}
	last := f.append(t, approvalEvent("Ok", "ok"))
	run(t, n)
	eventually(t, "the last event delivered", func() bool { return len(ok.requests()) == 1 })
	wantCursor(t, f, last)
	if n := len(down.requests()); n != 2 {
		t.Errorf("a 5xx target got %d attempts, want Attempts = 2", n)
	}
	if n, m := len(gone.requests()), len(moved.requests()); n != 1 || m != 1 {
		t.Errorf("a 404 target got %d attempts and a 302 target %d, want 1 each (not retried, redirect not followed)", n, m)
	}
	if r := ok.requests()[0]; r.header.Get(notify.SignatureHeader) != "" {
		t.Errorf("a target without a secret got a signature: %v", r.header)
	}
	logs := f.logs.String()
	for _, want := range []string{
		`level=ERROR msg="notifier: approval notification not delivered; giving up" event_id=1`,
		`level=WARN msg="notifier: no notification target of that name`,
		"target=Missing",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs do not contain %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, down.URL) {
		t.Errorf("logs show a whole target URL (which may carry tokens):\n%s", logs)
	}
}

// A notifier stopped during a delivery has not moved its cursor past the
// event, so the next one delivers it again.
func TestAtLeastOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	release := make(chan struct{})
	var mu sync.Mutex
	var got []string
	hang := true
	l := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get(notify.EventIDHeader))
		h := hang
		mu.Unlock()
		if h {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(l.Close)
	t.Cleanup(func() { close(release) })
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	f.target(t, "T", l.URL, "")

	n1 := notify.New(f.st, f.sealer, fast(), f.logger)
	if err := n1.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	start := f.cursor(t)
	stop := run(t, n1)
	id := f.append(t, approvalEvent("T", "A"))
	eventually(t, "the first attempt", func() bool { return count() == 1 })
	stop()
	if c := f.cursor(t); c != start {
		t.Fatalf("cursor moved to %d during a delivery that did not finish, want %d", c, start)
	}

	mu.Lock()
	hang = false
	mu.Unlock()
	run(t, notify.New(f.st, f.sealer, fast(), f.logger))
	eventually(t, "the delivery again", func() bool { return count() == 2 })
	wantCursor(t, f, id)
	mu.Lock()
	defer mu.Unlock()
	if got[0] != got[1] || got[0] != strconv.FormatInt(id, 10) {
		t.Errorf("event IDs of the deliveries = %q, want %d twice", got, id)
	}
}

// Init starts a new notifier at the end of the log: approvals from before
// are not notified. Events that need no delivery move the stored cursor
// lazily, and at the latest when Run ends.
func TestInitAndCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := newListener(t, 200)
	f.target(t, "T", l.URL, "")
	old := f.append(t, approvalEvent("T", "old"))
	n := notify.New(f.st, f.sealer, fast(), f.logger)
	if err := n.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c := f.cursor(t); c != old {
		t.Fatalf("Init set the cursor to %d, want the last event %d", c, old)
	}
	if err := n.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	stop := run(t, n)
	var last int64
	for range 3 {
		last = f.append(t, &store.Event{Type: engine.EventStage, Pipeline: "P", Detail: []byte(`{}`)})
	}
	time.Sleep(100 * time.Millisecond)
	stop()
	if c := f.cursor(t); c != last {
		t.Errorf("cursor after Run ended = %d, want %d", c, last)
	}
	if n := len(l.requests()); n != 0 {
		t.Errorf("%d deliveries of an approval from before Init, want none", n)
	}
}

// WatchApprovals wakes the notifier when an approval event commits, so
// delivery does not wait for the next poll.
func TestWatchApprovalsWakes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := newListener(t, 200)
	f.target(t, "T", l.URL, "")
	cfg := fast()
	cfg.PollInterval = time.Hour
	n := notify.New(f.st, f.sealer, cfg, f.logger)
	if err := n.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	run(t, n)
	watched := notify.WatchApprovals(f.st, n.Wake)
	time.Sleep(50 * time.Millisecond) // let Run finish its first read
	if err := watched.InTx(t.Context(), func(q store.Queries) error {
		return q.AppendEvent(t.Context(), approvalEvent("T", "in-tx"))
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivery after a transaction", func() bool { return len(l.requests()) == 1 })
	if err := watched.AppendEvent(t.Context(), approvalEvent("T", "plain")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivery after a plain append", func() bool { return len(l.requests()) == 2 })
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Two notifiers on one database (two servers) deliver each notification
// once: the one holding the lease delivers; when it stops, the other takes
// over and goes on from the stored cursor.
func TestOneNotifierDelivers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := newListener(t, 204)
	f.target(t, "Topic", l.URL+"/hook", "")
	cfg := fast()
	cfg.Lease = 300 * time.Millisecond
	a := notify.New(f.st, f.sealer, cfg, f.logger)
	b := notify.New(f.st, f.sealer, cfg, f.logger)
	if err := a.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	stopA := run(t, a)
	run(t, b)
	for i := range 5 {
		f.append(t, approvalEvent("arn:aws:sns:us-east-1:123456789012:Topic", fmt.Sprintf("A%d", i)))
	}
	eventually(t, "five deliveries", func() bool { return len(l.requests()) >= 5 })
	stopA()
	last := f.append(t, approvalEvent("arn:aws:sns:us-east-1:123456789012:Topic", "after"))
	eventually(t, "the sixth delivery", func() bool { return len(l.requests()) >= 6 })
	wantCursor(t, f, last)
	time.Sleep(100 * time.Millisecond) // room for a duplicate to show
	seen := map[string]int{}
	for _, r := range l.requests() {
		seen[r.header.Get(notify.EventIDHeader)]++
	}
	if len(l.requests()) != 6 || len(seen) != 6 {
		t.Errorf("%d deliveries of %d events, want each of 6 once: %v", len(l.requests()), len(seen), seen)
	}
}
