package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgNotifyChannel is the one PostgreSQL NOTIFY channel every Store
// listens on; the Store's own channels travel in the payload (hub.encode),
// so one LISTEN serves any number of them.
const pgNotifyChannel = "slipway_wake"

// ListenerApplicationName is the application_name of the PostgreSQL
// connection that receives notifications (one per Store with
// subscribers), which tells it apart in pg_stat_activity.
const ListenerApplicationName = "slipway-listener"

// Publish implements WakeQueries.
//
// Divergence: on PostgreSQL it also runs pg_notify, inside the
// transaction when there is one (PostgreSQL sends it at commit, and never
// on rollback) or on the read pool otherwise, for the other Stores on the
// database; the Store's own subscribers are called in-process, after the
// commit, on both databases.
func (q *queries) Publish(ctx context.Context, channel, payload string) error {
	if err := checkNotification(channel, payload); err != nil {
		return err
	}
	if q.hub == nil {
		return errors.New("store: publish: this Store has no notifications")
	}
	n := Notification{Channel: channel, Payload: payload}
	if q.pending == nil {
		q.hub.deliver(n) // outside a transaction: at once
	}
	if q.d == dialectPostgres {
		if _, err := q.read.ExecContext(ctx, q.d.rebind(`SELECT pg_notify(?, ?)`), pgNotifyChannel, q.hub.encode(channel, payload)); err != nil {
			return fmt.Errorf("publish on %q: %w", channel, err)
		}
	}
	if q.pending != nil {
		*q.pending = append(*q.pending, n)
	}
	return nil
}

// Subscribe implements Store. On PostgreSQL the first subscription starts
// the listener connection and waits (a few seconds at most) until it
// listens, so notifications published after Subscribe returns arrive.
func (s *sqlStore) Subscribe(channel string, fn func(Notification)) (cancel func()) {
	cancel = s.hub.subscribe(channel, fn)
	if s.listener != nil {
		s.listener.start()
	}
	return cancel
}

// Listener timings. A connection that fails is retried after
// listenerMinBackoff, doubling up to listenerMaxBackoff; an idle one is
// pinged every listenerPing so that a dead peer is noticed.
const (
	listenerMinBackoff = 100 * time.Millisecond
	listenerMaxBackoff = 5 * time.Second
	listenerPing       = 15 * time.Second
	listenerFirstWait  = 5 * time.Second
)

// pgListener is a Store's dedicated PostgreSQL connection that LISTENs on
// pgNotifyChannel and hands what arrives to the hub. It reconnects with
// backoff; after every (re)connection the subscribers get a resync, since
// notifications sent while it was not listening are lost.
type pgListener struct {
	cfg *pgx.ConnConfig
	hub *hub
	log *slog.Logger

	once     sync.Once
	mu       sync.Mutex
	launched bool // run was started
	stopped  bool
	ready    chan struct{} // closed once listening for the first time
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
}

func newPGListener(cfg *pgx.ConnConfig, h *hub, logger *slog.Logger) *pgListener {
	cfg = cfg.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ListenerApplicationName
	ctx, cancel := context.WithCancel(context.Background())
	return &pgListener{cfg: cfg, hub: h, log: logger, ready: make(chan struct{}), ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// start runs the listener, once, and waits until it listens or
// listenerFirstWait passes (it then keeps trying in the background).
func (l *pgListener) start() {
	l.once.Do(func() {
		l.mu.Lock()
		if l.stopped {
			l.mu.Unlock()
			return
		}
		l.launched = true
		l.mu.Unlock()
		go l.run()
		select {
		case <-l.ready:
		case <-time.After(listenerFirstWait):
			l.log.Warn("notification listener not connected yet; wake-ups from other servers wait for it (sweeps go on)")
		}
	})
}

// stop ends the listener and waits for it; a listener never started
// stays so.
func (l *pgListener) stop() {
	l.mu.Lock()
	l.stopped = true
	launched := l.launched
	l.mu.Unlock()
	l.cancel()
	if launched {
		<-l.done
	}
}

func (l *pgListener) run() {
	defer close(l.done)
	backoff := listenerMinBackoff
	for l.ctx.Err() == nil {
		listened, err := l.session()
		if l.ctx.Err() != nil {
			return
		}
		if listened {
			backoff = listenerMinBackoff
		}
		l.log.Warn("notification listener lost its connection; reconnecting", "err", err, "retry_in", backoff)
		select {
		case <-l.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenerMaxBackoff)
	}
}

// session connects, listens and receives until the connection fails or
// the listener stops; listened reports whether it got as far as LISTEN.
func (l *pgListener) session() (listened bool, _ error) {
	ctx := l.ctx
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgNotifyChannel); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	l.hub.resync()
	select {
	case <-l.ready:
	default:
		close(l.ready)
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, listenerPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			l.hub.receive(n.Payload)
			continue
		case ctx.Err() != nil:
			return true, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			pctx, cancel := context.WithTimeout(ctx, listenerPing)
			err = conn.Ping(pctx)
			cancel()
			if err == nil {
				continue
			}
		}
		return true, fmt.Errorf("wait for notification: %w", err)
	}
}
