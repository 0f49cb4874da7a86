package store

import (
	"context"
	"time"
)

// Execution is a pipeline execution.
type Execution struct {
	ID       string
	Pipeline string
	Seq      int64 // start order (from NextSeq("execution"))
	Version  int32 // pipeline version the execution runs
	Status   string
	// Stage is the stage the execution is in, or waits to enter when
	// Waiting; empty once it has ended.
	Stage       string
	Waiting     bool
	ClientToken string // StartPipelineExecution clientRequestToken, "" if none
	Detail      []byte // engine-owned JSON (trigger, variables, summary, ...)
	Started     time.Time
	Updated     time.Time
}

// StageRun is one execution's run of one stage.
type StageRun struct {
	Pipeline    string
	ExecutionID string
	Stage       string
	Status      string
	Attempt     int
	RetryMode   string
	Seq         int64 // entry order into stages (from NextSeq("stage")), renewed on every attempt
	Started     time.Time
	Updated     time.Time
}

// ActionRun is one run of an action (an action execution).
type ActionRun struct {
	ID           string // actionExecutionId
	Seq          int64  // creation order (from NextSeq("action"))
	Pipeline     string
	ExecutionID  string
	Stage        string
	Action       string
	StageAttempt int
	Status       string
	Deadline     time.Time // zero: none; InProgress runs past it are due for the sweeper (approval expiry)
	Detail       []byte    // engine-owned JSON (input, output, token, error, ...)
	Started      time.Time
	Updated      time.Time
}

// Job is a unit of work for a job worker: one attempt of an action run.
type Job struct {
	ID          string
	ActionRunID string
	Pipeline    string
	Type        ActionTypeKey
	Status      string // JobStatus: Queued, Dispatched, InProgress, Succeeded, Failed, TimedOut
	Nonce       string
	// LeaseUntil: for Dispatched, when an unacknowledged job returns to
	// Queued; for InProgress, when it times out.
	LeaseUntil time.Time
	Data       []byte // engine-owned JSON (the JobData)
	Created    time.Time
	Updated    time.Time
}

// Transition is the state of a stage's inbound transition.
type Transition struct {
	Pipeline  string
	Stage     string
	Disabled  bool
	Reason    string
	ChangedBy string
	ChangedAt time.Time
}

// Event is an entry of the event log (the outbox).
type Event struct {
	ID          int64 // assigned by AppendEvent, increasing
	Time        time.Time
	Type        string // detail-type, e.g. "CodePipeline Action Execution State Change"
	Pipeline    string
	ExecutionID string
	Detail      []byte // JSON
}

// RunQueries are the queries over pipeline executions, jobs and events.
type RunQueries interface {
	// NextSeq returns the next value of a named counter, starting at 1.
	NextSeq(ctx context.Context, name string) (int64, error)

	CreateExecution(ctx context.Context, e *Execution) error
	GetExecution(ctx context.Context, id string) (*Execution, error)
	// FindExecutionByToken returns the execution of pipeline started with clientToken.
	FindExecutionByToken(ctx context.Context, pipeline, clientToken string) (*Execution, error)
	UpdateExecution(ctx context.Context, e *Execution) error
	// ListExecutions returns a pipeline's executions newest first, with Seq < beforeSeq when beforeSeq > 0.
	ListExecutions(ctx context.Context, pipeline string, beforeSeq int64, limit int) ([]*Execution, error)
	// ListActiveExecutions returns a pipeline's InProgress and Stopping executions, oldest first.
	ListActiveExecutions(ctx context.Context, pipeline string) ([]*Execution, error)
	// ListActivePipelines returns the names of pipelines with active executions.
	ListActivePipelines(ctx context.Context) ([]string, error)

	// PutStageRun inserts or replaces the run of (ExecutionID, Stage).
	PutStageRun(ctx context.Context, r *StageRun) error
	// ListStageRuns returns the stage runs of the given executions.
	ListStageRuns(ctx context.Context, executionIDs []string) ([]*StageRun, error)
	// LatestStageRuns returns, per stage of the pipeline, the run with the highest Seq.
	LatestStageRuns(ctx context.Context, pipeline string) ([]*StageRun, error)

	CreateActionRun(ctx context.Context, r *ActionRun) error
	UpdateActionRun(ctx context.Context, r *ActionRun) error
	GetActionRun(ctx context.Context, id string) (*ActionRun, error)
	// LatestActionRuns returns the newest run of each (execution, stage, action) of the given executions.
	LatestActionRuns(ctx context.Context, executionIDs []string) ([]*ActionRun, error)
	// LatestActionRunsByAction returns the pipeline's newest run of each (stage, action).
	LatestActionRunsByAction(ctx context.Context, pipeline string) ([]*ActionRun, error)
	// ListActionRuns returns a pipeline's runs newest first (optionally of one execution), paged by Seq.
	ListActionRuns(ctx context.Context, f ActionRunFilter) ([]*ActionRun, error)
	// ListDueActionRuns returns InProgress runs whose Deadline is before now.
	ListDueActionRuns(ctx context.Context, now time.Time) ([]*ActionRun, error)

	CreateJob(ctx context.Context, j *Job) error
	GetJob(ctx context.Context, id string) (*Job, error)
	UpdateJob(ctx context.Context, j *Job) error
	// DispatchJobs atomically hands up to limit jobs of a type to one
	// caller, oldest first: Queued jobs, and Dispatched jobs whose lease
	// ended before now, for which accept returns true. Each becomes
	// Dispatched with a fresh nonce from nonce() and LeaseUntil = leaseUntil.
	DispatchJobs(ctx context.Context, t ActionTypeKey, limit int, now, leaseUntil time.Time, accept func(*Job) bool, nonce func() string) ([]*Job, error)
	// ListDueJobs returns Dispatched and InProgress jobs whose LeaseUntil is before now.
	ListDueJobs(ctx context.Context, now time.Time) ([]*Job, error)

	PutTransition(ctx context.Context, t *Transition) error
	ListTransitions(ctx context.Context, pipeline string) ([]*Transition, error)

	// AppendEvent stores e and sets e.ID.
	AppendEvent(ctx context.Context, e *Event) error
	// ListEvents returns events with ID > after, oldest first, optionally of one pipeline.
	ListEvents(ctx context.Context, after int64, pipeline string, limit int) ([]*Event, error)

	// DeletePipelineRuns removes a pipeline's executions, stage and action runs, their logs, jobs and transitions.
	DeletePipelineRuns(ctx context.Context, pipeline string) error
}

// ActionRunFilter selects action runs for ListActionRuns.
type ActionRunFilter struct {
	Pipeline    string
	ExecutionID string // optional
	BeforeSeq   int64  // only runs with Seq < BeforeSeq; 0 from the newest
	Limit       int
}
