package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/store"
	"github.com/slipway-cd/slipway/internal/worker"
)

// FunctionStore is what Lambda actions read from the server's store: the
// functions and the state of jobs.
type FunctionStore interface {
	GetFunction(ctx context.Context, name string) (*store.Function, error)
	GetJob(ctx context.Context, id string) (*store.Job, error)
}

// JobKeyIssuer issues the temporary credentials of one function
// invocation, valid for the job API calls of that job only
// (auth.JobKeys).
type JobKeyIssuer interface {
	Issue(ctx context.Context, jobID string, ttl time.Duration) (id, secret, token string, err error)
	Revoke(ctx context.Context, id string) error
}

// Functions is what Lambda actions need: the server's functions, job
// credentials and the URL functions call back.
type Functions struct {
	Store FunctionStore
	Keys  JobKeyIssuer
	// Endpoint is the server's base URL, where functions call
	// PutJobSuccessResult and PutJobFailureResult.
	Endpoint  string
	AccountID string
	Region    string
	// Client sends the events of URL functions (nil: a default client).
	Client *http.Client
}

// keyGrace is how long a job key outlives its function's timeout, so a
// report sent at the last moment still authenticates.
const keyGrace = time.Minute

// stderrTail bounds the standard error (or response body) a failure
// message quotes.
const stderrTail = 2048

// LambdaInvoke runs Invoke/AWS/Lambda actions with Slipway functions
// (slipwayapi.Function): the FunctionName names a registered command or
// HTTP endpoint, which receives the CodePipeline.job event and reports
// the job's result itself, through the CodePipeline job API, with the
// job-scoped credentials of the event. The executor hands the job over:
// once the function has reported, the Worker reports nothing
// (worker.ErrReported). A function that ends without reporting fails the
// job:
//
//   - a command that exits (with any status) or times out before it
//     reported: the job fails with the exit status and the tail of its
//     standard error;
//   - an endpoint that answers a status other than 2xx before a report:
//     the job fails with the status and the tail of the body. A 2xx
//     answer means the function accepted the event; it then has until
//     its timeout to report.
//
// A report with a continuation token queues a new job for the action,
// whose event carries data.continuationToken: the function is invoked
// again.
type LambdaInvoke struct{ Deps }

// Type returns Invoke/AWS/Lambda/1.
func (l *LambdaInvoke) Type() cpapi.ActionTypeId {
	return awsType(cpapi.ActionCategoryInvoke, "Lambda")
}

// Run invokes the function and waits for its report.
func (l *LambdaInvoke) Run(ctx context.Context, j *worker.Job) (*worker.Result, error) {
	fs := l.Functions
	cfg := config(j)
	name := functionName(cfg["FunctionName"])
	rec, err := fs.Store.GetFunction(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &worker.Failure{Type: cpapi.FailureTypeConfigurationError,
			Message: fmt.Sprintf("function %s does not exist on this Slipway server; register it with CreateFunction (docs/api-extensions.md, Functions)", name)}
	}
	if err != nil {
		return nil, err
	}
	var fn slipwayapi.Function
	if err := json.Unmarshal(rec.Definition, &fn); err != nil {
		return nil, fmt.Errorf("decode function %s: %w", name, err)
	}
	fn.FunctionName = rec.Name
	timeout := time.Duration(fn.Timeout()) * time.Second

	keyID, secret, token, err := fs.Keys.Issue(ctx, j.ID, timeout+keyGrace)
	if err != nil {
		return nil, fmt.Errorf("issue the job's credentials: %w", err)
	}
	defer func() {
		if err := fs.Keys.Revoke(context.WithoutCancel(ctx), keyID); err != nil && l.Logger != nil {
			l.Logger.Warn("revoke job key", "job", j.ID, "err", err)
		}
	}()
	event, err := json.Marshal(newLambdaEvent(j, fs.AccountID, cpapi.AWSSessionCredentials{AccessKeyId: keyID, SecretAccessKey: secret, SessionToken: token}))
	if err != nil {
		return nil, fmt.Errorf("encode the event: %w", err)
	}
	inv := &invocation{l: l, j: j, fn: &fn, id: uuid.NewString(), event: event, timeout: timeout,
		creds: [3]string{keyID, secret, token}}
	deadline := time.Now().Add(timeout)
	var failure *worker.Failure
	if fn.URL != "" {
		failure, err = inv.post(ctx)
	} else {
		failure, err = inv.run(ctx)
	}
	if err != nil {
		if done, rerr := l.reported(ctx, j.ID); rerr == nil && done {
			return nil, worker.ErrReported // the function reported, then the job was stopped
		}
		return nil, err
	}
	if failure == nil { // an endpoint accepted the event: wait for its report
		failure, err = l.awaitReport(ctx, j.ID, deadline, &fn)
		if err != nil {
			return nil, err
		}
	}
	if reported, err := l.reported(ctx, j.ID); err != nil || reported {
		if err != nil {
			return nil, err
		}
		return nil, worker.ErrReported
	}
	return nil, failure
}

// reported reports whether the job has left InProgress (the function, or
// a stop, ended it).
func (l *LambdaInvoke) reported(ctx context.Context, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	job, err := l.Functions.Store.GetJob(ctx, id)
	if err != nil {
		return false, fmt.Errorf("read job %s: %w", id, err)
	}
	return job.Status != cpapi.JobStatusInProgress, nil
}

// awaitReport waits until the job is reported or the deadline passes;
// it returns the failure for a deadline passed without a report.
func (l *LambdaInvoke) awaitReport(ctx context.Context, id string, deadline time.Time, fn *slipwayapi.Function) (*worker.Failure, error) {
	wait := 50 * time.Millisecond
	for {
		if done, err := l.reported(ctx, id); err != nil || done {
			return nil, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return worker.Failf("function %s accepted the event but reported no result within its timeout of %d seconds; it must call PutJobSuccessResult or PutJobFailureResult with job ID %s",
				fn.FunctionName, fn.Timeout(), id), nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(wait, left)):
		}
		wait = min(2*wait, time.Second)
	}
}

// invocation is one call of a function.
type invocation struct {
	l       *LambdaInvoke
	j       *worker.Job
	fn      *slipwayapi.Function
	id      string // the invocation ID (SLIPWAY_INVOCATION_ID)
	event   []byte
	timeout time.Duration
	creds   [3]string // access key ID, secret, session token
}

// run runs a command function; it returns the failure to report should
// the function not have reported.
func (inv *invocation) run(ctx context.Context) (*worker.Failure, error) {
	fn, log := inv.fn, inv.j.LogOutput()
	dir, err := newScratchDir(inv.l.WorkDir)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	runCtx, cancel := context.WithTimeout(ctx, inv.timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, fn.Command[0], fn.Command[1:]...)
	cmd.Dir = dir
	cmd.Env = inv.env(dir)
	cmd.Stdin = bytes.NewReader(inv.event)
	tail := &tailBuffer{max: stderrTail}
	cmd.Stdout = log
	cmd.Stderr = io.MultiWriter(log, tail)
	cmd.WaitDelay = 5 * time.Second // children that keep the output open do not hold the job
	fmt.Fprintf(log, "Invoking function %s (invocation %s): %s\n", fn.FunctionName, inv.id, strings.Join(fn.Command, " "))
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case runCtx.Err() != nil:
		fmt.Fprintf(log, "Function %s timed out after %d seconds\n", fn.FunctionName, fn.Timeout())
		return worker.Failf("function %s timed out after %d seconds without reporting a result%s", fn.FunctionName, fn.Timeout(), tail.quote()), nil
	case errors.As(err, &exit):
		fmt.Fprintf(log, "Function %s exited with status %d\n", fn.FunctionName, exit.ExitCode())
		return worker.Failf("function %s exited with status %d without reporting a result%s", fn.FunctionName, exit.ExitCode(), tail.quote()), nil
	case err != nil:
		return &worker.Failure{Type: cpapi.FailureTypeConfigurationError,
			Message: fmt.Sprintf("function %s could not be started: %v", fn.FunctionName, err)}, nil
	}
	fmt.Fprintf(log, "Function %s exited with status 0\n", fn.FunctionName)
	return worker.Failf("function %s exited with status 0 without reporting a result; it must call PutJobSuccessResult or PutJobFailureResult with job ID %s%s",
		fn.FunctionName, inv.j.ID, tail.quote()), nil
}

// env is a command function's environment: a few variables of the
// server's (PATH, HOME, LANG, TZ), the function's own, and the
// invocation's.
func (inv *invocation) env(dir string) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "LANG", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range inv.fn.Environment {
		env = append(env, k+"="+v)
	}
	fs := inv.l.Functions
	return append(env,
		"TMPDIR="+dir,
		"SLIPWAY_EVENT="+string(inv.event),
		"SLIPWAY_ENDPOINT="+fs.Endpoint,
		"SLIPWAY_JOB_ID="+inv.j.ID,
		"SLIPWAY_FUNCTION_NAME="+inv.fn.FunctionName,
		"SLIPWAY_INVOCATION_ID="+inv.id,
		"AWS_ACCESS_KEY_ID="+inv.creds[0],
		"AWS_SECRET_ACCESS_KEY="+inv.creds[1],
		"AWS_SESSION_TOKEN="+inv.creds[2],
		"AWS_REGION="+fs.Region,
		"AWS_DEFAULT_REGION="+fs.Region,
		"AWS_ENDPOINT_URL_CODEPIPELINE="+fs.Endpoint,
	)
}

// post sends the event to a URL function; it returns the failure to
// report should the function not have reported, or nil for a 2xx answer.
func (inv *invocation) post(ctx context.Context) (*worker.Failure, error) {
	fn, log := inv.fn, inv.j.LogOutput()
	postCtx, cancel := context.WithTimeout(ctx, inv.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(postCtx, http.MethodPost, fn.URL, bytes.NewReader(inv.event))
	if err != nil {
		return &worker.Failure{Type: cpapi.FailureTypeConfigurationError, Message: fmt.Sprintf("function %s: %v", fn.FunctionName, err)}, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slipway-Invocation-Id", inv.id)
	req.Header.Set("X-Slipway-Function-Name", fn.FunctionName)
	req.Header.Set("X-Slipway-Endpoint", inv.l.Functions.Endpoint)
	client := inv.l.Functions.Client
	if client == nil {
		client = http.DefaultClient
	}
	fmt.Fprintf(log, "Invoking function %s (invocation %s): POST %s\n", fn.FunctionName, inv.id, fn.URL)
	resp, err := client.Do(req)
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case postCtx.Err() != nil:
		return worker.Failf("function %s timed out after %d seconds without answering", fn.FunctionName, fn.Timeout()), nil
	case err != nil:
		return worker.Failf("function %s could not be called: %v", fn.FunctionName, err), nil
	}
	defer resp.Body.Close()
	tail := &tailBuffer{max: stderrTail}
	_, _ = io.Copy(tail, io.LimitReader(resp.Body, 1<<20))
	fmt.Fprintf(log, "Function %s answered %s\n", fn.FunctionName, resp.Status)
	if resp.StatusCode/100 == 2 {
		return nil, nil
	}
	return worker.Failf("function %s answered HTTP %d without reporting a result%s", fn.FunctionName, resp.StatusCode, tail.quote()), nil
}

// functionName is the function a FunctionName names: a name, a name with
// a version or alias qualifier (name:qualifier) or a Lambda ARN
// (arn:aws:lambda:region:account:function:name[:qualifier]), whose
// qualifier Slipway ignores.
func functionName(s string) string {
	if _, after, ok := strings.Cut(s, ":function:"); ok {
		s = after
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

// lambdaEvent is the event a function receives, as Lambda delivers it to
// CodePipeline functions (codepipeline.md §6.2).
type lambdaEvent struct {
	Job lambdaJob `json:"CodePipeline.job"`
}

type lambdaJob struct {
	ID        string        `json:"id"`
	AccountID string        `json:"accountId"`
	Data      lambdaJobData `json:"data"`
}

type lambdaJobData struct {
	ActionConfiguration lambdaConfiguration         `json:"actionConfiguration"`
	InputArtifacts      []lambdaArtifact            `json:"inputArtifacts"`
	OutputArtifacts     []lambdaArtifact            `json:"outputArtifacts"`
	ArtifactCredentials cpapi.AWSSessionCredentials `json:"artifactCredentials"`
	ContinuationToken   string                      `json:"continuationToken,omitempty"`
	// As in GetJobDetails.
	ActionTypeID    *cpapi.ActionTypeId    `json:"actionTypeId,omitempty"`
	PipelineContext *cpapi.PipelineContext `json:"pipelineContext,omitempty"`
	EncryptionKey   *cpapi.EncryptionKey   `json:"encryptionKey,omitempty"`
}

type lambdaConfiguration struct {
	Configuration map[string]string `json:"configuration"`
}

type lambdaArtifact struct {
	Location *cpapi.ArtifactLocation `json:"location"`
	Revision *string                 `json:"revision"` // null when unknown
	Name     string                  `json:"name"`
}

func newLambdaEvent(j *worker.Job, accountID string, creds cpapi.AWSSessionCredentials) *lambdaEvent {
	d := j.Data
	cfg := map[string]string{}
	if d.ActionConfiguration != nil && d.ActionConfiguration.Configuration != nil {
		cfg = d.ActionConfiguration.Configuration
	}
	arts := func(in []cpapi.Artifact) []lambdaArtifact {
		out := make([]lambdaArtifact, 0, len(in))
		for _, a := range in {
			la := lambdaArtifact{Location: a.Location, Name: a.Name}
			if a.Revision != "" {
				la.Revision = &a.Revision
			}
			out = append(out, la)
		}
		return out
	}
	return &lambdaEvent{Job: lambdaJob{ID: j.ID, AccountID: accountID, Data: lambdaJobData{
		ActionConfiguration: lambdaConfiguration{Configuration: cfg},
		InputArtifacts:      arts(d.InputArtifacts),
		OutputArtifacts:     arts(d.OutputArtifacts),
		ArtifactCredentials: creds,
		ContinuationToken:   d.ContinuationToken,
		ActionTypeID:        d.ActionTypeId,
		PipelineContext:     d.PipelineContext,
		EncryptionKey:       d.EncryptionKey,
	}}}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// quote is ": " and the kept text, trimmed, or "" when there is none.
func (t *tailBuffer) quote() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(strings.ToValidUTF8(string(t.buf), "?"))
	if s == "" {
		return ""
	}
	return ": " + s
}
