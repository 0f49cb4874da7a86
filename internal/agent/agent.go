package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slipway-cd/slipway/internal/cdcmdapi"
)

// trackingStaleAfter is the age past which an ongoing-deployment tracking
// file is ignored at start (DEPLOYMENT_EVENT_FILE_STALE_TIMELIMIT_SECONDS).
const trackingStaleAfter = 24 * time.Hour

// LogFormat is the Diagnostics format of streamed hook output
// (PostHostCommandUpdate; a Slipway extension).
const LogFormat = "SLIPWAY_LOG"

// CommandService is the server side of the host-agent protocol; *Client
// implements it.
type CommandService interface {
	PollHostCommand(context.Context, *cdcmdapi.PollHostCommandInput) (*cdcmdapi.PollHostCommandOutput, error)
	GetDeploymentSpecification(context.Context, *cdcmdapi.GetDeploymentSpecificationInput) (*cdcmdapi.GetDeploymentSpecificationOutput, error)
	PutHostCommandAcknowledgement(context.Context, *cdcmdapi.PutHostCommandAcknowledgementInput) (*cdcmdapi.PutHostCommandAcknowledgementOutput, error)
	PutHostCommandComplete(context.Context, *cdcmdapi.PutHostCommandCompleteInput) error
	PostHostCommandUpdate(context.Context, *cdcmdapi.PostHostCommandUpdateInput) (*cdcmdapi.PostHostCommandUpdateOutput, error)
}

// Agent is the poll loop (command_poller.rb). Set the exported fields,
// then call Run.
type Agent struct {
	// Service is the command service.
	Service CommandService
	// Executor executes the commands.
	Executor *Executor
	// HostID is the host identifier (the registered instance's ARN).
	HostID string
	// Verify opens PKCS7/JSON specification envelopes.
	Verify EnvelopeVerifier
	// AllowUnsignedSpecs accepts TEXT/JSON specifications.
	AllowUnsignedSpecs bool
	// TrackingDir is <root>/ongoing-deployment; "" derives it from the
	// Executor's root.
	TrackingDir string
	// WaitBetweenRuns is the pause after a poll without a command.
	WaitBetweenRuns time.Duration
	// MaxBackoff caps the pause after consecutive errors.
	MaxBackoff time.Duration
	// Keepalive is how often a running command tells the server that the
	// agent is alive; 0 means DefaultKeepalive.
	Keepalive time.Duration
	// ShutdownGrace is how long a stopping agent lets the current command
	// run before cancelling it.
	ShutdownGrace time.Duration
	// CompleteRetryFor is how long PutHostCommandComplete is retried while
	// the server cannot be reached; 0 means 10 minutes.
	CompleteRetryFor time.Duration
	// Logger logs; nil discards.
	Logger *slog.Logger

	killOnce sync.Once
	killCh   chan struct{}
	initOnce sync.Once
}

func (a *Agent) init() {
	a.initOnce.Do(func() { a.killCh = make(chan struct{}) })
}

func (a *Agent) log() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

func (a *Agent) trackingDir() string {
	if a.TrackingDir != "" {
		return a.TrackingDir
	}
	return filepath.Join(a.Executor.Root, DefaultOngoingDeployment)
}

// Kill cancels the command that is running, killing its scripts; Run then
// reports it failed and returns. Use it on a second stop signal.
func (a *Agent) Kill() {
	a.init()
	a.killOnce.Do(func() { close(a.killCh) })
}

// Run polls and executes commands until ctx is cancelled. A cancelled ctx
// stops polling at once; a command already running is let finish (for up
// to ShutdownGrace, or until Kill) and reported, as the stock agent
// finishes its current command before it exits.
func (a *Agent) Run(ctx context.Context) error {
	a.init()
	execCtx, cancelExec := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelExec(nil)
	go func() {
		select {
		case <-a.killCh:
			cancelExec(errors.New("agent killed"))
			return
		case <-execCtx.Done():
			return
		case <-ctx.Done():
		}
		grace := a.ShutdownGrace
		if grace <= 0 {
			grace = DefaultKillAgentMaxWait
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancelExec(errors.New("agent stop: kill_agent_max_wait_time_seconds elapsed"))
		case <-a.killCh:
			cancelExec(errors.New("agent killed"))
		case <-execCtx.Done():
		}
	}()

	a.RecoverFromCrash(ctx)
	errCount := 0
	for ctx.Err() == nil {
		start := time.Now()
		worked, err := a.RunOnce(ctx, execCtx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			errCount = min(errCount+1, 10)
			wait := a.backoff(errCount) - time.Since(start)
			a.log().Error("poll failed", "err", err, "errors", errCount, "retry_in", wait.Round(time.Millisecond))
			sleep(ctx, wait)
		default:
			errCount = 0
			if !worked {
				sleep(ctx, a.WaitBetweenRuns)
			}
		}
	}
	return nil
}

// backoff is base.rb's pause after n consecutive errors:
// 1.2675^n · max/1.2675^10, which reaches max after 10 errors.
func (a *Agent) backoff(n int) time.Duration {
	maxB := a.MaxBackoff
	if maxB <= 0 {
		maxB = DefaultMaxBackoff
	}
	return time.Duration(float64(maxB) * math.Pow(1.2675, float64(n-10)))
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// RunOnce polls once and executes the command it gets, if any, under
// execCtx. It reports whether there was a command.
func (a *Agent) RunOnce(ctx, execCtx context.Context) (bool, error) {
	a.init()
	out, err := a.Service.PollHostCommand(ctx, &cdcmdapi.PollHostCommandInput{HostIdentifier: a.HostID})
	if err != nil {
		return false, err
	}
	cmd := out.HostCommand
	if cmd == nil {
		return false, nil
	}
	if !strings.Contains(a.HostID, cmd.HostIdentifier) {
		return true, fmt.Errorf("Host identifier mismatch: %s != %s", a.HostID, cmd.HostIdentifier)
	}
	if cmd.CommandName == "" {
		return true, errors.New("Command name missing")
	}
	a.Process(execCtx, cmd)
	return true, nil
}

// Process runs one polled command through the per-command sequence
// (acknowledge_and_process_command; api.md §6.5).
func (a *Agent) Process(ctx context.Context, cmd *cdcmdapi.HostCommandInstance) {
	a.init()
	log := a.log().With("command", cmd.CommandName, "host_command", cmd.HostCommandIdentifier)
	spec, err := a.specification(ctx, cmd)
	if err != nil {
		log.Error("cannot get the deployment specification", "err", err)
		a.complete(ctx, cmd.HostCommandIdentifier, err)
		return
	}
	log = log.With("deployment", spec.DeploymentID)
	noop := a.Executor.IsNoop(cmd.CommandName, spec)
	var ack *cdcmdapi.PutHostCommandAcknowledgementOutput
	err = a.retryTransient(ctx, "PutHostCommandAcknowledgement", cmd.HostCommandIdentifier, func() (err error) {
		ack, err = a.Service.PutHostCommandAcknowledgement(ctx, &cdcmdapi.PutHostCommandAcknowledgementInput{
			HostCommandIdentifier: cmd.HostCommandIdentifier,
			Diagnostics:           &cdcmdapi.Envelope{Format: "JSON", Payload: fmt.Sprintf(`{"IsCommandNoop":%t}`, noop)},
		})
		return err
	})
	if err != nil {
		log.Error("acknowledgement failed", "err", err)
		a.complete(ctx, cmd.HostCommandIdentifier, err)
		return
	}
	switch ack.CommandStatus {
	case cdcmdapi.DeploymentCommandStatusSucceeded:
		log.Info("command already succeeded; nothing to do")
		return
	case cdcmdapi.DeploymentCommandStatusFailed:
		if noop {
			a.completeWith(ctx, cmd.HostCommandIdentifier, cdcmdapi.DeploymentCommandStatusSucceeded,
				Diagnostics{ErrorCode: CodeSucceeded, Message: "Succeeded: CompletedNoopCommand"})
		}
		return
	}

	track := filepath.Join(a.trackingDir(), spec.DeploymentID)
	if err := os.MkdirAll(filepath.Dir(track), 0o755); err == nil {
		if err := os.WriteFile(track, []byte(cmd.HostCommandIdentifier), 0o644); err != nil {
			log.Warn("cannot write the tracking file", "err", err)
		}
	}
	defer os.Remove(track)

	log.Info("executing command", "noop", noop)
	start := time.Now()
	streamer := func(sctx context.Context, chunk string) error {
		_, err := a.Service.PostHostCommandUpdate(sctx, &cdcmdapi.PostHostCommandUpdateInput{
			HostCommandIdentifier: cmd.HostCommandIdentifier,
			Diagnostics:           &cdcmdapi.Envelope{Format: LogFormat, Payload: chunk},
		})
		return err
	}
	stopKeepalive := a.keepalive(ctx, cmd.HostCommandIdentifier)
	execErr := a.Executor.Execute(ctx, cmd.CommandName, spec, streamer)
	stopKeepalive()
	if execErr != nil {
		log.Error("command failed", "err", execErr, "elapsed", time.Since(start).Round(time.Millisecond))
	} else {
		log.Info("command succeeded", "elapsed", time.Since(start).Round(time.Millisecond))
	}
	a.complete(ctx, cmd.HostCommandIdentifier, execErr)
}

// specification fetches, opens and parses the deployment specification.
func (a *Agent) specification(ctx context.Context, cmd *cdcmdapi.HostCommandInstance) (*DeploymentSpec, error) {
	var out *cdcmdapi.GetDeploymentSpecificationOutput
	err := a.retryTransient(ctx, "GetDeploymentSpecification", cmd.HostCommandIdentifier, func() (err error) {
		out, err = a.Service.GetDeploymentSpecification(ctx, &cdcmdapi.GetDeploymentSpecificationInput{
			DeploymentExecutionId: cmd.DeploymentExecutionId,
			HostIdentifier:        a.HostID,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	payload, err := openEnvelope(out, a.Verify, a.AllowUnsignedSpecs)
	if err != nil {
		return nil, err
	}
	return ParseDeploymentSpec(payload)
}

func (a *Agent) complete(ctx context.Context, id string, err error) {
	status := cdcmdapi.DeploymentCommandStatusSucceeded
	if err != nil {
		status = cdcmdapi.DeploymentCommandStatusFailed
	}
	a.completeWith(ctx, id, status, DiagnosticsFor(err))
}

// keepalive sends an empty PostHostCommandUpdate every Keepalive until
// stop is called: the agent does not poll while a command runs, and the
// server fails the lifecycle event of an agent it has not heard from
// within its agent lease (AGENT_ISSUE), so a hook that runs longer than
// the lease must still show that the agent is alive.
func (a *Agent) keepalive(ctx context.Context, id string) (stop func()) {
	every := a.Keepalive
	if every <= 0 {
		every = DefaultKeepalive
	}
	kctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-kctx.Done():
				return
			case <-t.C:
			}
			rctx, rcancel := context.WithTimeout(kctx, every)
			_, err := a.Service.PostHostCommandUpdate(rctx, &cdcmdapi.PostHostCommandUpdateInput{
				HostCommandIdentifier: id,
				Diagnostics:           &cdcmdapi.Envelope{Format: LogFormat},
			})
			rcancel()
			if err != nil && kctx.Err() == nil {
				a.log().Debug("keepalive failed", "host_command", id, "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// retryTransient calls fn until it succeeds, fails with a client error,
// ctx ends or CompleteRetryFor passes, backing off between attempts, so
// that a server restart or a short network drop between polling a command
// and running it does not fail the command.
func (a *Agent) retryTransient(ctx context.Context, what, id string, fn func() error) error {
	limit := a.CompleteRetryFor
	if limit <= 0 {
		limit = 10 * time.Minute
	}
	deadline := time.Now().Add(limit)
	for n := 1; ; n++ {
		err := fn()
		if err == nil || IsClientError(err) || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		wait := a.backoff(min(n, 10))
		a.log().Warn(what+" failed; retrying", "host_command", id, "err", err, "retry_in", wait.Round(time.Millisecond))
		sleep(ctx, wait)
	}
}

// completeWith sends PutHostCommandComplete, retrying while the server is
// unreachable or failing, so that a server restart does not lose the
// result.
func (a *Agent) completeWith(ctx context.Context, id, status string, d Diagnostics) {
	in := &cdcmdapi.PutHostCommandCompleteInput{
		HostCommandIdentifier: id,
		CommandStatus:         status,
		Diagnostics:           &cdcmdapi.Envelope{Format: "JSON", Payload: d.JSON()},
	}
	limit := a.CompleteRetryFor
	if limit <= 0 {
		limit = 10 * time.Minute
	}
	// Reporting must not be cut short by the command's cancellation.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	defer cancel()
	for n := 1; ; n++ {
		err := a.Service.PutHostCommandComplete(rctx, in)
		if err == nil {
			a.log().Info("reported command", "host_command", id, "status", status, "error_code", d.ErrorCode)
			return
		}
		if IsClientError(err) || rctx.Err() != nil {
			a.log().Error("PutHostCommandComplete failed; giving up", "host_command", id, "err", err)
			return
		}
		wait := a.backoff(min(n, 10))
		a.log().Warn("PutHostCommandComplete failed; retrying", "host_command", id, "err", err, "retry_in", wait.Round(time.Millisecond))
		sleep(rctx, wait)
	}
}

// RecoverFromCrash reports the command an earlier run of the agent left
// unfinished: when the tracking directory holds a file younger than 24 h,
// the newest one's host command is completed as Failed with error code 7,
// then the directory is removed (recover_from_crash?; api.md §6.4).
func (a *Agent) RecoverFromCrash(ctx context.Context) bool {
	dir := a.trackingDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	var newest string
	var newestMod time.Time
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || time.Since(fi.ModTime()) > trackingStaleAfter {
			continue
		}
		if newest == "" || fi.ModTime().After(newestMod) {
			newest, newestMod = filepath.Join(dir, e.Name()), fi.ModTime()
		}
	}
	found := false
	if newest != "" {
		if b, err := os.ReadFile(newest); err == nil && strings.TrimSpace(string(b)) != "" {
			id := strings.TrimSpace(string(b))
			a.log().Warn("failing the lifecycle event that was running when the agent stopped", "host_command", id, "deployment", filepath.Base(newest))
			a.completeWith(ctx, id, cdcmdapi.DeploymentCommandStatusFailed,
				Diagnostics{ErrorCode: CodeFailedAfterRestart, Message: MsgFailedAfterRestart})
			found = true
		}
	}
	_ = os.RemoveAll(dir)
	return found
}

// New builds an Agent, its Client and its Executor from a configuration.
func New(cfg *Config, logger *slog.Logger) (*Agent, error) {
	client, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.RootDir, 0o755); err != nil {
		return nil, fmt.Errorf("root_dir: %w", err)
	}
	x := &Executor{
		Root:           cfg.RootDir,
		InstallRoot:    cfg.InstallRoot,
		MaxRevisions:   cfg.MaxRevisions,
		MaxBundleBytes: cfg.MaxBundleBytes,
		HookWorkingDir: cfg.HookWorkingDir,
		DeploymentsLog: cfg.EnableDeploymentsLog == nil || *cfg.EnableDeploymentsLog,
		Fetcher:        client,
		Logger:         logger,
	}
	return &Agent{
		Service:            client,
		Executor:           x,
		HostID:             cfg.HostID(),
		AllowUnsignedSpecs: cfg.AllowUnsignedSpecs,
		TrackingDir:        filepath.Join(cfg.RootDir, cfg.OngoingDeploymentTracking),
		WaitBetweenRuns:    cfg.WaitBetweenRuns.D(),
		MaxBackoff:         cfg.MaxBackoff.D(),
		Keepalive:          cfg.Keepalive.D(),
		ShutdownGrace:      cfg.KillAgentMaxWait.D(),
		Logger:             logger,
	}, nil
}
