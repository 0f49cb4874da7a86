// Package notify delivers Slipway's notifications: a background loop
// ([Notifier.Run]) tails the event log and, for each manual approval that
// asks for a notification (engine.EventApproval), POSTs the approval
// message of the CodePipeline user guide to the notification target its
// NotificationArn names ([TargetName]); and, for each deployment trigger
// event the deployment runner appends (deploy.EventTrigger), the trigger
// JSON of the CodeDeploy user guide to the target its triggerTargetArn
// names.
//
// Delivery is at least once. The loop's position in the log is the store
// setting notify_cursor; it moves past an approval event only once that
// event is handled (delivered, given up on after retries, or skipped for
// an unknown target), so a server stopped mid-delivery delivers again when
// it starts. Receivers can tell repeats apart by the X-Slipway-Event-Id
// header. Deliveries run on the loop's own goroutine, outside every store
// transaction: a slow or failing target delays later notifications, never
// the engine. With several servers on one database, one notifier at a
// time delivers: the holder of a lease kept in the store setting
// notify_lease.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/slipway-cd/slipway/internal/deploy"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/store"
)

// CursorSetting is the store setting that holds the ID of the last event
// the notifier has handled.
const CursorSetting = "notify_cursor"

// LeaseSetting is the store setting that names the notifier delivering
// notifications and until when: "<owner> <unix milliseconds>".
const LeaseSetting = "notify_lease"

// Headers of a delivery, besides Content-Type: application/json.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the
	// body keyed with the target's secret; absent when it has none.
	SignatureHeader = "X-Slipway-Signature"
	// EventIDHeader carries the event's ID, the same on every attempt
	// and every repeat of one notification.
	EventIDHeader = "X-Slipway-Event-Id"
)

// userAgent identifies deliveries.
const userAgent = "Slipway-Notifier/1"

// Config tunes the notifier. Zero values mean the defaults.
type Config struct {
	// PollInterval is how often the event log is read (default 200 ms).
	// [Notifier.Wake] makes the loop read it at once.
	PollInterval time.Duration
	// AttemptTimeout bounds one delivery attempt (default 5 s).
	AttemptTimeout time.Duration
	// Attempts is how many times a delivery is tried before the notifier
	// gives up on it (default 4).
	Attempts int
	// Backoff is the wait before the second attempt, doubled before each
	// later one (default 500 ms).
	Backoff time.Duration
	// BatchSize is how many events one read of the log returns at most
	// (default 100).
	BatchSize int
	// CursorFlush is how long the cursor may run ahead of the stored one
	// while it passes only events that need no delivery (default 5 s):
	// those are cheap to read again after a restart, and writing the
	// cursor for each would compete with the engine for the writer lock.
	// The cursor is stored at once after every approval event.
	CursorFlush time.Duration
	// HTTPClient sends deliveries. The default follows no redirects (a
	// 3xx answer is a failed delivery) and has no overall timeout of its
	// own (AttemptTimeout bounds each attempt).
	HTTPClient *http.Client
	// Lease is how long the notifier that delivers holds that role: the
	// notifiers of several servers on one database take turns through a
	// lease in the store, so each notification is sent by one of them
	// (default 15 s; another server takes over this long after the holder
	// stopped renewing).
	Lease time.Duration
}

func (c *Config) setDefaults() {
	if c.PollInterval <= 0 {
		c.PollInterval = 200 * time.Millisecond
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 5 * time.Second
	}
	if c.Attempts <= 0 {
		c.Attempts = 4
	}
	if c.Backoff <= 0 {
		c.Backoff = 500 * time.Millisecond
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.Lease <= 0 {
		c.Lease = 15 * time.Second
	}
	if c.CursorFlush <= 0 {
		c.CursorFlush = 5 * time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
}

// Opener opens the sealed secrets of notification targets (auth.Sealer is
// one).
type Opener interface {
	Open(sealed []byte) ([]byte, error)
}

// Notifier delivers approval notifications. Run it once per server.
type Notifier struct {
	store  store.Store
	opener Opener
	cfg    Config
	log    *slog.Logger
	wake   chan struct{}
	owner  string // this notifier's lease owner ID

	// Owned by Run's goroutine.
	leased    time.Time // when the lease was last taken or renewed; zero when not held
	cursor    int64     // last event handled
	stored    int64     // cursor as last stored
	storedAt  time.Time
	haveStart bool
}

// New returns a notifier over st that opens target secrets with opener
// (which may be nil if no target has a secret).
func New(st store.Store, opener Opener, cfg Config, logger *slog.Logger) *Notifier {
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{store: st, opener: opener, cfg: cfg, log: logger, wake: make(chan struct{}, 1), owner: uuid.NewString()}
}

// TargetName returns the notification target a NotificationArn names:
// its last ":"-separated segment, so
// arn:aws:sns:us-east-1:123456789012:MyApprovalTopic names
// MyApprovalTopic, and a plain name names itself.
func TargetName(notificationArn string) string {
	return notificationArn[strings.LastIndexByte(notificationArn, ':')+1:]
}

// Init sets the cursor to the end of the event log when it has never been
// set, so that a new installation, or one that did not notify before,
// does not deliver notifications of approvals from before it started.
// Servers call it before they serve requests; Run calls it too.
func (n *Notifier) Init(ctx context.Context) error {
	_, err := n.store.GetSetting(ctx, CursorSetting)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return n.store.InTx(ctx, func(q store.Queries) error {
		// Checked again under the writer lock: another process may have
		// set it meanwhile.
		if _, err := q.GetSetting(ctx, CursorSetting); !errors.Is(err, store.ErrNotFound) {
			return err
		}
		last, err := q.LastEventID(ctx)
		if err != nil {
			return err
		}
		return q.PutSetting(ctx, CursorSetting, strconv.FormatInt(last, 10))
	})
}

// Wake makes Run read the event log now rather than at its next poll. It
// never blocks.
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run delivers notifications until ctx ends. It returns nil then; store
// errors are logged and retried at the next poll.
func (n *Notifier) Run(ctx context.Context) error {
	tick := time.NewTicker(n.cfg.PollInterval)
	defer tick.Stop()
	defer n.release(context.WithoutCancel(ctx))
	for {
		held, err := n.hold(ctx)
		if err != nil && ctx.Err() == nil {
			n.log.Error("notifier: take the delivery lease", "err", err)
		}
		if held {
			if err := n.drain(ctx); err != nil && ctx.Err() == nil {
				n.log.Error("notifier: read the event log", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-n.wake:
		case <-tick.C:
		}
	}
}

// hold takes or renews the delivery lease when a third of it has passed
// and reports whether this notifier holds it. A notifier that (re)takes
// the lease reloads the cursor, which another one may have moved.
func (n *Notifier) hold(ctx context.Context) (bool, error) {
	now := time.Now()
	if !n.leased.IsZero() && now.Sub(n.leased) < n.cfg.Lease/3 {
		return true, nil
	}
	var held bool
	err := n.store.InTx(ctx, func(q store.Queries) error {
		v, err := q.GetSetting(ctx, LeaseSetting)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if owner, until, ok := parseLease(v); ok && owner != n.owner && now.UnixMilli() < until {
			return nil
		}
		held = true
		return q.PutSetting(ctx, LeaseSetting, n.owner+" "+strconv.FormatInt(now.Add(n.cfg.Lease).UnixMilli(), 10))
	})
	if err != nil || !held {
		n.leased, n.haveStart = time.Time{}, false
		return false, err
	}
	if n.leased.IsZero() {
		n.haveStart = false
	}
	n.leased = now
	return true, nil
}

// release stores the cursor and gives the lease up, so that another
// server's notifier takes over at once.
func (n *Notifier) release(ctx context.Context) {
	if n.leased.IsZero() {
		return
	}
	if err := n.flush(ctx, true); err != nil {
		n.log.Error("notifier: store the cursor", "err", err)
	}
	err := n.store.InTx(ctx, func(q store.Queries) error {
		v, err := q.GetSetting(ctx, LeaseSetting)
		if err != nil {
			return err
		}
		if owner, _, _ := parseLease(v); owner != n.owner {
			return nil
		}
		return q.PutSetting(ctx, LeaseSetting, n.owner+" 0")
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		n.log.Error("notifier: release the delivery lease", "err", err)
	}
	n.leased = time.Time{}
}

// parseLease reads a LeaseSetting value.
func parseLease(v string) (owner string, until int64, ok bool) {
	owner, ms, found := strings.Cut(v, " ")
	if !found {
		return "", 0, false
	}
	until, err := strconv.ParseInt(ms, 10, 64)
	return owner, until, err == nil
}

// start loads the cursor, once.
func (n *Notifier) start(ctx context.Context) error {
	if n.haveStart {
		return nil
	}
	if err := n.Init(ctx); err != nil {
		return fmt.Errorf("initialise cursor: %w", err)
	}
	v, err := n.store.GetSetting(ctx, CursorSetting)
	if err != nil {
		return fmt.Errorf("read cursor: %w", err)
	}
	c, err := strconv.ParseInt(v, 10, 64)
	if err != nil || c < 0 {
		// Not expected; starting from the end loses nothing already
		// handled and repeats nothing.
		n.log.Error("notifier: stored cursor is not an event ID; starting from the end of the event log", "value", v)
		if c, err = n.store.LastEventID(ctx); err != nil {
			return err
		}
	}
	n.cursor, n.stored, n.storedAt, n.haveStart = c, c, time.Now(), true
	return nil
}

// drain handles every event after the cursor.
func (n *Notifier) drain(ctx context.Context) error {
	if err := n.start(ctx); err != nil {
		return err
	}
	for {
		es, err := n.store.ListEvents(ctx, n.cursor, "", n.cfg.BatchSize)
		if err != nil {
			return err
		}
		for _, e := range es {
			if Delivers(e.Type) {
				if err := n.handle(ctx, e); err != nil {
					return err
				}
			}
			n.cursor = e.ID
			if Delivers(e.Type) {
				if err := n.flush(ctx, true); err != nil {
					return err
				}
			}
		}
		if err := n.flush(ctx, false); err != nil {
			return err
		}
		if len(es) < n.cfg.BatchSize {
			return nil
		}
	}
}

// flush stores the cursor if it moved: always when force, otherwise once
// CursorFlush has passed since it was last stored.
func (n *Notifier) flush(ctx context.Context, force bool) error {
	if !n.haveStart || n.cursor == n.stored || (!force && time.Since(n.storedAt) < n.cfg.CursorFlush) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := n.store.PutSetting(ctx, CursorSetting, strconv.FormatInt(n.cursor, 10)); err != nil {
		return fmt.Errorf("store cursor: %w", err)
	}
	n.stored, n.storedAt = n.cursor, time.Now()
	return nil
}

// Delivers reports whether the notifier delivers events of this
// detail-type: approvals (engine.EventApproval) and deployment triggers
// (deploy.EventTrigger). Both carry detail.notificationArn and
// detail.message.
func Delivers(eventType string) bool {
	return eventType == engine.EventApproval || eventType == deploy.EventTrigger
}

// kind names an event's notification in logs.
func kind(eventType string) string {
	if eventType == deploy.EventTrigger {
		return "deployment trigger notification"
	}
	return "approval notification"
}

// approvalDetail is the detail of an engine.EventApproval envelope.
type approvalDetail struct {
	Detail struct {
		NotificationArn string          `json:"notificationArn"`
		Message         json.RawMessage `json:"message"`
	} `json:"detail"`
}

// handle delivers one approval event. It returns an error only when the
// event must be handled again (the store failed, or ctx ended); a
// delivery that fails for good is logged.
func (n *Notifier) handle(ctx context.Context, e *store.Event) error {
	log := n.log.With("event_id", e.ID, "pipeline", e.Pipeline, "execution_id", e.ExecutionID, "kind", kind(e.Type))
	var d approvalDetail
	if err := json.Unmarshal(e.Detail, &d); err != nil || len(d.Detail.Message) == 0 || d.Detail.NotificationArn == "" {
		log.Error("notifier: event has no notificationArn and message; skipped", "err", err)
		return nil
	}
	name := TargetName(d.Detail.NotificationArn)
	log = log.With("notification_arn", d.Detail.NotificationArn, "target", name)
	t, err := n.store.GetNotificationTarget(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("notifier: no notification target of that name; notification not sent " +
			"(register one with PutNotificationTarget, see docs/api-extensions.md)")
		return nil
	}
	if err != nil {
		return fmt.Errorf("get notification target %q: %w", name, err)
	}
	var key []byte
	if t.SealedSecret != nil {
		if n.opener == nil {
			log.Error("notifier: target has a secret but the notifier cannot open secrets; notification not sent")
			return nil
		}
		if key, err = n.opener.Open(t.SealedSecret); err != nil {
			log.Error("notifier: cannot open the target's secret; notification not sent (set the secret again with PutNotificationTarget)", "err", err)
			return nil
		}
	}
	return n.deliver(ctx, log, kind(e.Type), e.ID, t.URL, d.Detail.Message, key)
}

// deliver POSTs body to target URL u, with retries. It returns an error
// only when ctx ended.
func (n *Notifier) deliver(ctx context.Context, log *slog.Logger, what string, eventID int64, u string, body, key []byte) error {
	log = log.With("host", hostOf(u))
	wait := n.cfg.Backoff
	for attempt := 1; ; attempt++ {
		status, err := n.attempt(ctx, eventID, u, body, key)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil && status/100 == 2 {
			log.Info("notifier: delivered "+what, "status", status, "attempt", attempt)
			return nil
		}
		permanent := err == nil && status/100 != 5 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
		if permanent || attempt >= n.cfg.Attempts {
			log.Error("notifier: "+what+" not delivered; giving up", "attempts", attempt,
				"status", status, "err", err)
			return nil
		}
		log.Warn("notifier: "+what+" delivery failed; will retry", "attempt", attempt,
			"status", status, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// attempt makes one delivery and returns the HTTP status.
func (n *Notifier) attempt(ctx context.Context, eventID int64, u string, body, key []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(EventIDHeader, strconv.FormatInt(eventID, 10))
	if key != nil {
		req.Header.Set(SignatureHeader, Sign(key, body))
	}
	resp, err := n.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// Sign returns the X-Slipway-Signature value of body under key:
// "sha256=" and the hex HMAC-SHA256.
func Sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// hostOf is the part of a target URL that logs show: target URLs may
// carry tokens in their paths or queries.
func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}
