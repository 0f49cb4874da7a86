package engine

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// Config holds the engine's timers. Zero values mean the defaults.
type Config struct {
	// JobTimeout is how long an acknowledged job may run without a result
	// before it is TimedOut and fails its action (default 1 hour).
	JobTimeout time.Duration
	// TypeTimeouts overrides JobTimeout for the jobs of some action types,
	// keyed "Category/Owner/Provider/Version" (see [TypeKey]), e.g.
	// "Build/Custom/MyBuild/1". Entries that are not positive are ignored.
	TypeTimeouts map[string]time.Duration
	// DispatchLease is how long a job handed out by PollForJobs waits for
	// AcknowledgeJob before it is offered again (default 60 s).
	DispatchLease time.Duration
	// ApprovalTimeout is how long a manual approval waits (default 7 days);
	// an action's timeoutInMinutes overrides it.
	ApprovalTimeout time.Duration
	// SweepInterval is how often timers (job leases, approval deadlines)
	// are checked (default 1 s).
	SweepInterval time.Duration
	// ResyncInterval is how often every pipeline with active executions is
	// reconciled again even without a wake-up (default 30 s; also at start).
	ResyncInterval time.Duration
	// HeartbeatLease is how long a heartbeat keeps an acknowledged job
	// claimed: a worker that stops heartbeating loses the job this long
	// after its last heartbeat (default 60 s).
	HeartbeatLease time.Duration
	// ConsoleURL is the server's public base URL, used in links that
	// notifications carry (default http://127.0.0.1:7700).
	ConsoleURL string
}

func (c *Config) setDefaults() {
	if c.JobTimeout <= 0 {
		c.JobTimeout = time.Hour
	}
	if c.DispatchLease <= 0 {
		c.DispatchLease = time.Minute
	}
	if c.ApprovalTimeout <= 0 {
		c.ApprovalTimeout = 7 * 24 * time.Hour
	}
	if c.HeartbeatLease <= 0 {
		c.HeartbeatLease = time.Minute
	}
	if c.ConsoleURL == "" {
		c.ConsoleURL = "http://127.0.0.1:7700"
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Second
	}
	if c.ResyncInterval <= 0 {
		c.ResyncInterval = 30 * time.Second
	}
	c.TypeTimeouts = maps.Clone(c.TypeTimeouts) // the caller keeps its map
}

// TypeKey is the key of an action type in [Config.TypeTimeouts]:
// "Category/Owner/Provider/Version".
func TypeKey(t store.ActionTypeKey) string {
	return t.Category + "/" + t.Owner + "/" + t.Provider + "/" + t.Version
}

// ParseTypeTimeout parses "Category/Owner/Provider/Version=DURATION", the
// form of one per-action-type job timeout on the command line, into a
// [Config.TypeTimeouts] key and a positive duration.
func ParseTypeTimeout(s string) (string, time.Duration, error) {
	const form = "want Category/Owner/Provider/Version=DURATION, e.g. Build/Custom/MyBuild/1=30m"
	key, value, ok := strings.Cut(s, "=")
	if !ok {
		return "", 0, fmt.Errorf("%q has no '=': %s", s, form)
	}
	parts := strings.Split(key, "/")
	if len(parts) != 4 || slices.Contains(parts, "") {
		return "", 0, fmt.Errorf("action type %q is not Category/Owner/Provider/Version: %s", key, form)
	}
	if !slices.Contains(cpapi.ActionCategoryValues, parts[0]) {
		return "", 0, fmt.Errorf("action type %q: category %q is not one of %s", key, parts[0], strings.Join(cpapi.ActionCategoryValues, ", "))
	}
	if !slices.Contains(cpapi.ActionOwnerValues, parts[1]) {
		return "", 0, fmt.Errorf("action type %q: owner %q is not one of %s", key, parts[1], strings.Join(cpapi.ActionOwnerValues, ", "))
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return "", 0, fmt.Errorf("timeout %q of action type %q is not a duration such as 90s, 30m or 2h", value, key)
	}
	if d <= 0 {
		return "", 0, fmt.Errorf("timeout %q of action type %q must be positive", value, key)
	}
	return key, d, nil
}

// jobTimeout is how long an acknowledged job of type t may run.
func (c *Config) jobTimeout(t store.ActionTypeKey) time.Duration {
	if d := c.TypeTimeouts[TypeKey(t)]; d > 0 {
		return d
	}
	return c.JobTimeout
}

// Engine runs pipeline executions over the store. Operations that change
// an execution commit their change and then wake the reconcile loop
// ([Engine.Run]), which plans and applies the next steps.
type Engine struct {
	store     store.Store
	region    string
	accountID string
	cfg       Config
	log       *slog.Logger
	now       func() time.Time

	mu     sync.Mutex
	dirty  map[string]bool
	wake   chan struct{}
	queued chan struct{}
	// resync asks Run for a full resync at once: the store's notifications
	// may have missed some wake-ups.
	resync atomic.Bool

	lastResync time.Time // only touched by Run's goroutine
}

// Store notification channels ([store.Store.Subscribe]) through which
// engines on every server sharing the database wake each other.
const (
	// ChannelPipelines carries the name of a pipeline to reconcile.
	ChannelPipelines = "engine.pipelines"
	// ChannelJobs says that jobs were queued (empty payload).
	ChannelJobs = "engine.jobs"
)

// publishTimeout bounds a wake-up's round trip to the database; a lost
// wake-up costs one sweep.
const publishTimeout = 5 * time.Second

// New returns an engine. now may be nil (time.Now).
func New(st store.Store, region, accountID string, cfg Config, logger *slog.Logger, now func() time.Time) *Engine {
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	e := &Engine{store: st, region: region, accountID: accountID, cfg: cfg, log: logger, now: now,
		dirty: map[string]bool{}, wake: make(chan struct{}, 1), queued: make(chan struct{}, 1)}
	// For the store's lifetime: wake-ups from this process and, on
	// PostgreSQL, from every server on the database.
	st.Subscribe(ChannelPipelines, func(n store.Notification) {
		if n.Resync {
			e.resync.Store(true)
			e.signal()
			return
		}
		e.markDirty(n.Payload)
	})
	st.Subscribe(ChannelJobs, func(store.Notification) { e.signalQueued() })
	return e
}

func (e *Engine) clock() time.Time { return e.now().UTC() }

// Kick asks the reconcile loops of every server on the database to look
// at pipelines: it publishes them through the store, whose subscription
// (New) marks them dirty here at once and, on PostgreSQL, on the other
// servers. Whichever engine takes the writer lock first reconciles; the
// others find nothing left to do.
func (e *Engine) Kick(pipelines ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	for _, p := range pipelines {
		if err := e.store.Publish(ctx, ChannelPipelines, p); err != nil {
			e.log.Warn("publish pipeline wake-up; other servers see it at their next sweep", "pipeline", p, "err", err)
			e.markDirty(p)
		}
	}
}

// markDirty asks this engine's reconcile loop to look at pipelines.
func (e *Engine) markDirty(pipelines ...string) {
	e.mu.Lock()
	for _, p := range pipelines {
		e.dirty[p] = true
	}
	e.mu.Unlock()
	e.signal()
}

func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// JobsQueued is signalled after jobs were queued, by this server or
// another one on the database, so that embedded workers poll at once
// instead of waiting for their next poll.
func (e *Engine) JobsQueued() <-chan struct{} { return e.queued }

// notifyQueued tells the workers of every server that jobs were queued.
func (e *Engine) notifyQueued() {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if err := e.store.Publish(ctx, ChannelJobs, ""); err != nil {
		e.log.Warn("publish jobs wake-up; other servers' workers see the jobs at their next poll", "err", err)
		e.signalQueued()
	}
}

func (e *Engine) signalQueued() {
	select {
	case e.queued <- struct{}{}:
	default:
	}
}

func (e *Engine) takeDirty() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.dirty))
	for n := range e.dirty {
		names = append(names, n)
	}
	clear(e.dirty)
	slices.Sort(names)
	return names
}

// Run reconciles pipelines until ctx ends: the ones kicked, and on every
// sweep the timers and every pipeline with active executions (so that
// nothing depends on a wake-up that a crash may have lost).
func (e *Engine) Run(ctx context.Context) error {
	if err := e.sweep(ctx); err != nil {
		e.log.Error("sweep", "err", err)
	}
	tick := time.NewTicker(e.cfg.SweepInterval)
	defer tick.Stop()
	for {
		for _, name := range e.takeDirty() {
			if err := e.Reconcile(ctx, name); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				e.log.Error("reconcile", "pipeline", name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.wake:
			if e.resync.Swap(false) {
				e.lastResync = time.Time{}
				if err := e.sweep(ctx); err != nil && ctx.Err() == nil {
					e.log.Error("sweep", "err", err)
				}
			}
		case <-tick.C:
			if err := e.sweep(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("sweep", "err", err)
			}
		}
	}
}

// sweep expires due jobs and approvals and, every ResyncInterval, marks
// every pipeline with active executions dirty. The timer check reads
// first and takes the writer only when something is due.
func (e *Engine) sweep(ctx context.Context) error {
	now := e.clock()
	var touched []string
	jobs, err := e.store.ListDueJobs(ctx, now)
	if err != nil {
		return fmt.Errorf("list due jobs: %w", err)
	}
	runs, err := e.store.ListDueActionRuns(ctx, now)
	if err != nil {
		return fmt.Errorf("list due action runs: %w", err)
	}
	if len(jobs)+len(runs) > 0 {
		requeued := false
		err = e.store.InTx(ctx, func(q store.Queries) error {
			touched, requeued = touched[:0], false
			jobs, err := q.ListDueJobs(ctx, now)
			if err != nil {
				return fmt.Errorf("list due jobs: %w", err)
			}
			for _, j := range jobs {
				requeued = requeued || j.Status == cpapi.JobStatusDispatched
				p, err := e.expireJob(ctx, q, j, now)
				if err != nil {
					return err
				}
				touched = append(touched, p...)
			}
			runs, err := q.ListDueActionRuns(ctx, now)
			if err != nil {
				return fmt.Errorf("list due action runs: %w", err)
			}
			for _, r := range runs {
				if err := e.expireApproval(ctx, q, r, now); err != nil {
					return err
				}
				touched = append(touched, r.Pipeline)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if requeued {
			e.notifyQueued()
		}
	}
	if now.Sub(e.lastResync) >= e.cfg.ResyncInterval {
		active, err := e.store.ListActivePipelines(ctx)
		if err != nil {
			return fmt.Errorf("list active pipelines: %w", err)
		}
		touched = append(touched, active...)
		e.lastResync = now
	}
	e.markDirty(touched...) // this engine reconciles them next
	return nil
}
