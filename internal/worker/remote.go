package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// Remote is a JobSource over a server's HTTP API, for `slipway worker`:
// jobs are polled, acknowledged and reported through CodePipeline's job
// API (PollForJobs, AcknowledgeJob, PutJobSuccessResult,
// PutJobFailureResult), heartbeats and log chunks go through the
// extension API (HeartbeatJob, PutJobLog); builds read their project,
// build number and secrets through RemoteBuilds. It has no wake-up
// channel: a remote worker polls.
type Remote struct {
	CodePipeline *codepipeline.Client
	API          *slipwayapi.Client
	// Labels are the worker's labels, sent with every poll in the
	// X-Slipway-Worker-Labels header: the server hands out a CodeBuild job
	// whose build project has WorkerLabels only to a worker with all of
	// them.
	Labels []string
}

// Poll claims up to max jobs of a type.
func (r *Remote) Poll(ctx context.Context, t cpapi.ActionTypeId, max int) ([]*Job, error) {
	var opts []func(*codepipeline.Options)
	if len(r.Labels) > 0 {
		opts = append(opts, codepipeline.WithAPIOptions(smithyhttp.SetHeaderValue(slipwayapi.WorkerLabelsHeader, strings.Join(r.Labels, ","))))
	}
	out, err := r.CodePipeline.PollForJobs(ctx, &codepipeline.PollForJobsInput{
		ActionTypeId: &types.ActionTypeId{
			Category: types.ActionCategory(t.Category), Owner: types.ActionOwner(t.Owner),
			Provider: aws.String(t.Provider), Version: aws.String(t.Version),
		},
		MaxBatchSize: aws.Int32(int32(min(max, 100))),
	}, opts...)
	if err != nil {
		return nil, err
	}
	jobs := make([]*Job, 0, len(out.Jobs))
	for _, j := range out.Jobs {
		data, err := jobData(j.Data)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", aws.ToString(j.Id), err)
		}
		jobs = append(jobs, &Job{ID: aws.ToString(j.Id), Nonce: aws.ToString(j.Nonce), Data: data})
	}
	return jobs, nil
}

// jobData converts the SDK's job data to the model's. The shapes are the
// same model's, so their JSON forms differ only in the case of the
// field names, which encoding/json matches case-insensitively.
func jobData(d *types.JobData) (*cpapi.JobData, error) {
	if d == nil {
		return &cpapi.JobData{}, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode job data: %w", err)
	}
	var out cpapi.JobData
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode job data: %w", err)
	}
	return &out, nil
}

// Acknowledge confirms the claim.
func (r *Remote) Acknowledge(ctx context.Context, id, nonce string) error {
	_, err := r.CodePipeline.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: aws.String(id), Nonce: aws.String(nonce)})
	return err
}

// Heartbeat extends the claim.
func (r *Remote) Heartbeat(ctx context.Context, id, nonce string) error {
	_, err := r.API.HeartbeatJob(ctx, &slipwayapi.HeartbeatJobInput{JobID: id, Nonce: nonce})
	return err
}

// Succeed reports success.
func (r *Remote) Succeed(ctx context.Context, id string, res *Result) error {
	in := &codepipeline.PutJobSuccessResultInput{JobId: aws.String(id), OutputVariables: res.OutputVariables}
	if res.ContinuationToken != "" {
		in.ContinuationToken = aws.String(res.ContinuationToken)
	}
	if res.Summary != "" || res.ExternalExecutionID != "" {
		in.ExecutionDetails = &types.ExecutionDetails{Summary: optional(truncate(res.Summary, 2048)), ExternalExecutionId: optional(res.ExternalExecutionID)}
	}
	if rev := res.Revision; rev != nil {
		in.CurrentRevision = &types.CurrentRevision{
			Revision: aws.String(rev.Revision), ChangeIdentifier: aws.String(rev.ChangeIdentifier),
			RevisionSummary: optional(rev.RevisionSummary),
		}
		if rev.Created != nil {
			in.CurrentRevision.Created = aws.Time(rev.Created.Time)
		}
	}
	_, err := r.CodePipeline.PutJobSuccessResult(ctx, in)
	return err
}

// Fail reports failure.
func (r *Remote) Fail(ctx context.Context, id string, f *Failure) error {
	typ := f.Type
	if typ == "" {
		typ = cpapi.FailureTypeJobFailed
	}
	_, err := r.CodePipeline.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{
		JobId: aws.String(id),
		FailureDetails: &types.FailureDetails{
			Type: types.FailureType(typ), Message: aws.String(truncate(f.Message, 5000)),
			ExternalExecutionId: optional(f.ExternalExecutionID),
		},
	})
	return err
}

// Log appends to the job's log.
func (r *Remote) Log(ctx context.Context, id, nonce string, data []byte) error {
	_, err := r.API.PutJobLog(ctx, &slipwayapi.PutJobLogInput{JobID: id, Nonce: nonce, Data: data})
	return err
}

// Wake returns nil: a remote worker polls.
func (r *Remote) Wake() <-chan struct{} { return nil }

// optional returns nil for "" and a pointer to s otherwise.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Draining wraps a JobSource for a graceful stop: after Stop it hands out
// no more jobs, and Idle is closed once every job it handed out has been
// reported (or left unacknowledged). A Worker whose Source it is, and
// whose Executors went through Wrap, can then be stopped without
// abandoning a job. Jobs are counted from Poll to Succeed, Fail, a
// refused Acknowledge or an executor's ErrReported.
type Draining struct {
	JobSource

	mu      sync.Mutex
	stopped bool
	busy    int // polls under way + jobs handed out and not yet ended
	idle    chan struct{}
}

// NewDraining returns src wrapped for a graceful stop.
func NewDraining(src JobSource) *Draining {
	return &Draining{JobSource: src, idle: make(chan struct{})}
}

// Stop makes Poll hand out nothing from now on.
func (d *Draining) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	d.check()
}

// Idle is closed once Stop was called and no job handed out is left.
func (d *Draining) Idle() <-chan struct{} { return d.idle }

// check closes idle when stopped and not busy; d.mu is held.
func (d *Draining) check() {
	if d.stopped && d.busy == 0 {
		select {
		case <-d.idle:
		default:
			close(d.idle)
		}
	}
}

func (d *Draining) end(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.busy -= n
	d.check()
}

// Poll claims jobs unless stopped.
func (d *Draining) Poll(ctx context.Context, t cpapi.ActionTypeId, max int) ([]*Job, error) {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return nil, nil
	}
	d.busy++ // the poll itself, until its jobs are counted
	d.mu.Unlock()
	jobs, err := d.JobSource.Poll(ctx, t, max)
	d.mu.Lock()
	d.busy += len(jobs) - 1
	d.check()
	d.mu.Unlock()
	return jobs, err
}

// Acknowledge confirms the claim; a refused one ends the job's count.
func (d *Draining) Acknowledge(ctx context.Context, id, nonce string) error {
	err := d.JobSource.Acknowledge(ctx, id, nonce)
	if err != nil {
		d.end(1)
	}
	return err
}

// Succeed reports success and ends the job's count.
func (d *Draining) Succeed(ctx context.Context, id string, r *Result) error {
	defer d.end(1)
	return d.JobSource.Succeed(ctx, id, r)
}

// Fail reports failure and ends the job's count.
func (d *Draining) Fail(ctx context.Context, id string, f *Failure) error {
	defer d.end(1)
	return d.JobSource.Fail(ctx, id, f)
}

// Wrap returns the executors wrapped so that a job an executor's delegate
// reports (ErrReported) ends its count.
func (d *Draining) Wrap(exs []Executor) []Executor {
	out := make([]Executor, len(exs))
	for i, ex := range exs {
		out[i] = &drainingExecutor{Executor: ex, d: d}
	}
	return out
}

type drainingExecutor struct {
	Executor
	d *Draining
}

func (e *drainingExecutor) Run(ctx context.Context, j *Job) (*Result, error) {
	res, err := e.Executor.Run(ctx, j)
	if errors.Is(err, ErrReported) {
		e.d.end(1)
	}
	return res, err
}
