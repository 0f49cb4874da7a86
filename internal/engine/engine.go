package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/slipway-cd/slipway/internal/store"
)

// Config holds the engine's timers. Zero values mean the defaults.
type Config struct {
	// JobTimeout is how long an acknowledged job may run without a result
	// before it is TimedOut and fails its action (default 1 hour).
	JobTimeout time.Duration
	// DispatchLease is how long a job handed out by PollForJobs waits for
	// AcknowledgeJob before it is offered again (default 60 s).
	DispatchLease time.Duration
	// ApprovalTimeout is how long a manual approval waits (default 7 days);
	// an action's timeoutInMinutes overrides it.
	ApprovalTimeout time.Duration
	// SweepInterval is how often timers are checked and every pipeline with
	// active executions is reconciled again (default 1 s).
	SweepInterval time.Duration
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
	if c.ConsoleURL == "" {
		c.ConsoleURL = "http://127.0.0.1:7700"
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Second
	}
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

	mu    sync.Mutex
	dirty map[string]bool
	wake  chan struct{}
}

// New returns an engine. now may be nil (time.Now).
func New(st store.Store, region, accountID string, cfg Config, logger *slog.Logger, now func() time.Time) *Engine {
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Engine{store: st, region: region, accountID: accountID, cfg: cfg, log: logger, now: now,
		dirty: map[string]bool{}, wake: make(chan struct{}, 1)}
}

func (e *Engine) clock() time.Time { return e.now().UTC() }

// Kick asks the reconcile loop to look at a pipeline.
func (e *Engine) Kick(pipelines ...string) {
	e.mu.Lock()
	for _, p := range pipelines {
		e.dirty[p] = true
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
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
		case <-tick.C:
			if err := e.sweep(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("sweep", "err", err)
			}
		}
	}
}

// sweep expires due jobs and approvals and marks every pipeline with active
// executions dirty.
func (e *Engine) sweep(ctx context.Context) error {
	now := e.clock()
	var touched []string
	err := e.store.InTx(ctx, func(q store.Queries) error {
		touched = touched[:0]
		jobs, err := q.ListDueJobs(ctx, now)
		if err != nil {
			return fmt.Errorf("list due jobs: %w", err)
		}
		for _, j := range jobs {
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
		active, err := q.ListActivePipelines(ctx)
		if err != nil {
			return fmt.Errorf("list active pipelines: %w", err)
		}
		touched = append(touched, active...)
		return nil
	})
	if err != nil {
		return err
	}
	e.Kick(touched...)
	return nil
}
