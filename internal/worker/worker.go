// Package worker runs jobs of built-in action types. A Worker claims jobs
// through a JobSource (the engine in process, or a server over HTTP),
// runs each with the Executor registered for its action type, keeps the
// claim alive with heartbeats while it runs, and reports the result.
package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// Job is a claimed job.
type Job struct {
	ID    string
	Nonce string
	Data  *cpapi.JobData
	// Log is where the executor writes the job's log (build output): a
	// LogWriter the Worker sets up while the job runs, readable live
	// through the extension API's GetActionLog. nil outside a Worker; use
	// LogOutput.
	Log io.Writer
}

// LogOutput returns j.Log, or io.Discard when it is nil.
func (j *Job) LogOutput() io.Writer {
	if j.Log == nil {
		return io.Discard
	}
	return j.Log
}

// Result is what an executor reports for a successful job.
type Result struct {
	Summary             string
	ExternalExecutionID string
	OutputVariables     map[string]string
	Revision            *cpapi.CurrentRevision // source actions
	ContinuationToken   string
}

// Failure is an error an executor returns to fail its job with a type.
type Failure struct {
	Type    string // a FailureType, JobFailed by default
	Message string
	// ExternalExecutionID, when set, names the external run that failed
	// (a CodeDeploy deployment ID).
	ExternalExecutionID string
}

// Error returns the message.
func (f *Failure) Error() string { return f.Message }

// Failf returns a *Failure of type JobFailed.
func Failf(format string, args ...any) *Failure {
	return &Failure{Type: cpapi.FailureTypeJobFailed, Message: fmt.Sprintf(format, args...)}
}

// ErrReported is what an executor returns when the job's result has
// already been reported by someone else it handed the job to (a Lambda
// function calls PutJobSuccessResult itself): the Worker then reports
// nothing.
var ErrReported = errors.New("worker: the job's result was reported by the executor's delegate")

// Executor runs jobs of one action type.
type Executor interface {
	// Type is the action type whose jobs the executor runs.
	Type() cpapi.ActionTypeId
	// Run does the job's work. Returning a *Failure fails the job with its
	// type; any other error fails it as JobFailed with the error's text.
	// ctx ends when the job is stopped or the worker shuts down.
	Run(ctx context.Context, job *Job) (*Result, error)
}

// JobSource hands out jobs and takes their results.
type JobSource interface {
	Poll(ctx context.Context, t cpapi.ActionTypeId, max int) ([]*Job, error)
	Acknowledge(ctx context.Context, id, nonce string) error
	// Heartbeat extends the claim on an acknowledged job; it returns an
	// error when the job is no longer the worker's (stopped, timed out).
	Heartbeat(ctx context.Context, id, nonce string) error
	Succeed(ctx context.Context, id string, r *Result) error
	Fail(ctx context.Context, id string, f *Failure) error
	// Log appends data to the log of the job's action run; it fails when
	// the job is no longer the worker's (see LogWriter).
	Log(ctx context.Context, id, nonce string, data []byte) error
	// Wake is signalled when new jobs may be waiting (nil: poll only).
	Wake() <-chan struct{}
}

// Worker runs jobs of its executors' types, at most Concurrency at once.
type Worker struct {
	Source      JobSource
	Executors   []Executor
	Concurrency int           // default 4
	Poll        time.Duration // pause between polls when idle (default 1 s)
	Heartbeat   time.Duration // heartbeat period (default 10 s)
	Logger      *slog.Logger

	slots chan struct{}
	wg    sync.WaitGroup
}

// Run claims and runs jobs until ctx ends, then waits for running jobs.
func (w *Worker) Run(ctx context.Context) error {
	if w.Concurrency <= 0 {
		w.Concurrency = 4
	}
	if w.Poll <= 0 {
		w.Poll = time.Second
	}
	if w.Heartbeat <= 0 {
		w.Heartbeat = 10 * time.Second
	}
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
	w.slots = make(chan struct{}, w.Concurrency)
	defer w.wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.Source.Wake():
		case <-timer.C:
		}
		for w.claim(ctx) {
		}
		timer.Reset(w.Poll)
	}
}

// claim polls once per executor type for as many jobs as there are free
// slots and starts them; it reports whether it started any.
func (w *Worker) claim(ctx context.Context) bool {
	started := false
	for _, ex := range w.Executors {
		free := w.Concurrency - len(w.slots)
		if free <= 0 || ctx.Err() != nil {
			return started
		}
		jobs, err := w.Source.Poll(ctx, ex.Type(), free)
		if err != nil {
			if ctx.Err() == nil {
				w.Logger.Error("poll for jobs", "provider", ex.Type().Provider, "err", err)
			}
			continue
		}
		for _, j := range jobs {
			if err := w.Source.Acknowledge(ctx, j.ID, j.Nonce); err != nil {
				w.Logger.Warn("acknowledge job", "job", j.ID, "err", err)
				continue
			}
			started = true
			w.slots <- struct{}{}
			w.wg.Add(1)
			go func() {
				defer func() { <-w.slots; w.wg.Done() }()
				w.run(ctx, ex, j)
			}()
		}
	}
	return started
}

// run executes one job with heartbeats and reports its result. A job
// whose heartbeat is refused (stopped or timed out) is cancelled.
func (w *Worker) run(ctx context.Context, ex Executor, j *Job) {
	log := w.Logger.With("job", j.ID, "provider", ex.Type().Provider)
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		t := time.NewTicker(w.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-jobCtx.Done():
				return
			case <-t.C:
				if err := w.Source.Heartbeat(jobCtx, j.ID, j.Nonce); err != nil && jobCtx.Err() == nil {
					log.Warn("heartbeat refused; stopping the job", "err", err)
					cancel()
					return
				}
			}
		}
	}()
	start := time.Now()
	logw := LogWriter(jobCtx, w.Source, j)
	j.Log = logw
	res, err := runSafely(jobCtx, ex, j)
	_ = logw.Close() // before the result: an ended job takes no more log
	if ctx.Err() != nil {
		// Shutting down: leave the job to its lease, another worker takes it.
		log.Info("worker stopping; job left to its lease")
		return
	}
	if errors.Is(err, ErrReported) {
		log.Info("job reported by its delegate", "duration", time.Since(start))
		return
	}
	report := context.WithoutCancel(ctx)
	if err != nil {
		var f *Failure
		if !errors.As(err, &f) {
			f = &Failure{Type: cpapi.FailureTypeJobFailed, Message: err.Error()}
		}
		log.Info("job failed", "duration", time.Since(start), "err", f.Message)
		if err := w.Source.Fail(report, j.ID, f); err != nil {
			log.Error("report failure", "err", err)
		}
		return
	}
	log.Info("job succeeded", "duration", time.Since(start))
	if err := w.Source.Succeed(report, j.ID, res); err != nil {
		log.Error("report success", "err", err)
	}
}

// runSafely turns an executor panic into a failure.
func runSafely(ctx context.Context, ex Executor, j *Job) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, Failf("the %s executor crashed: %v", ex.Type().Provider, p)
		}
	}()
	res, err = ex.Run(ctx, j)
	if err == nil && res == nil {
		res = &Result{}
	}
	return res, err
}
