package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/pipeline"
	"github.com/slipway-cd/slipway/internal/store"
)

// run is the loaded state of one pipeline during a reconcile transaction.
type run struct {
	e       *Engine
	ctx     context.Context
	q       store.Queries
	now     time.Time
	pipe    *store.Pipeline
	decl    *cpapi.PipelineDeclaration
	cat     *pipeline.Catalog
	execs   map[string]*store.Execution
	stages  map[[2]string]*store.StageRun
	actions map[[3]string]*store.ActionRun
	queued  bool // a job was created
}

// Reconcile plans and applies the next steps of a pipeline's active
// executions in one transaction.
func (e *Engine) Reconcile(ctx context.Context, name string) error {
	queued := false
	err := e.store.InTx(ctx, func(q store.Queries) error {
		r, err := e.load(ctx, q, name)
		if err != nil || r == nil {
			return err
		}
		if err := r.cancelOutdated(); err != nil {
			return err
		}
		st, err := r.state()
		if err != nil {
			return err
		}
		for _, c := range Plan(st) {
			if err := r.apply(c); err != nil {
				return err
			}
		}
		queued = r.queued
		return nil
	})
	if err == nil && queued {
		e.notifyQueued()
	}
	return err
}

// load reads a pipeline's active executions and their runs; nil when there
// is nothing to do.
func (e *Engine) load(ctx context.Context, q store.Queries, name string) (*run, error) {
	execs, err := q.ListActiveExecutions(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("list active executions: %w", err)
	}
	if len(execs) == 0 {
		return nil, nil
	}
	r := &run{e: e, ctx: ctx, q: q, now: e.clock(), execs: map[string]*store.Execution{},
		stages: map[[2]string]*store.StageRun{}, actions: map[[3]string]*store.ActionRun{}}
	r.pipe, err = q.GetPipeline(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		// The pipeline was deleted under its executions: end them.
		for _, x := range execs {
			x.Status, x.Stage, x.Waiting, x.Updated = cpapi.PipelineExecutionStatusCancelled, "", false, r.now
			if err := q.UpdateExecution(ctx, x); err != nil {
				return nil, fmt.Errorf("cancel execution: %w", err)
			}
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get pipeline: %w", err)
	}
	if err := json.Unmarshal(r.pipe.Declaration, &r.decl); err != nil {
		return nil, fmt.Errorf("decode pipeline %q: %w", name, err)
	}
	ids := make([]string, 0, len(execs))
	for _, x := range execs {
		r.execs[x.ID] = x
		ids = append(ids, x.ID)
	}
	stages, err := q.ListStageRuns(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list stage runs: %w", err)
	}
	for _, s := range stages {
		r.stages[[2]string{s.ExecutionID, s.Stage}] = s
	}
	actions, err := q.LatestActionRuns(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list action runs: %w", err)
	}
	for _, a := range actions {
		r.actions[[3]string{a.ExecutionID, a.Stage, a.Action}] = a
	}
	return r, nil
}

// catalog loads the action type catalogue on first use.
func (r *run) catalog() (*pipeline.Catalog, error) {
	if r.cat != nil {
		return r.cat, nil
	}
	rows, err := r.q.ListActionTypes(r.ctx)
	if err != nil {
		return nil, fmt.Errorf("list action types: %w", err)
	}
	custom := make([]cpapi.ActionType, 0, len(rows))
	for _, row := range rows {
		var t cpapi.ActionType
		if err := json.Unmarshal(row.Declaration, &t); err != nil {
			return nil, fmt.Errorf("decode action type: %w", err)
		}
		custom = append(custom, t)
	}
	r.cat = pipeline.NewCatalog(custom)
	return r.cat, nil
}

// state builds the planner's input.
func (r *run) state() (*State, error) {
	st := &State{Pipeline: r.decl, DisabledInbound: map[string]bool{}}
	for _, x := range r.execs {
		if x.Status == execInProgress || x.Status == execStopping {
			st.Executions = append(st.Executions, &Execution{ID: x.ID, Seq: x.Seq, Status: x.Status, Stage: x.Stage, Waiting: x.Waiting})
		}
	}
	for _, s := range r.stages {
		st.Stages = append(st.Stages, &StageRun{ExecutionID: s.ExecutionID, Stage: s.Stage, Status: s.Status, Attempt: s.Attempt, RetryMode: s.RetryMode})
	}
	for _, a := range r.actions {
		st.Actions = append(st.Actions, &ActionRun{ExecutionID: a.ExecutionID, Stage: a.Stage, Action: a.Action, StageAttempt: a.StageAttempt, Status: a.Status})
	}
	ts, err := r.q.ListTransitions(r.ctx, r.pipe.Name)
	if err != nil {
		return nil, fmt.Errorf("list transitions: %w", err)
	}
	for _, t := range ts {
		st.DisabledInbound[t.Stage] = t.Disabled
	}
	return st, nil
}

// cancelOutdated ends executions that run an older version of the
// pipeline: an update cancels the executions in flight, as CodePipeline
// does (status Cancelled: "the pipeline's definition was updated before
// the execution could be completed").
func (r *run) cancelOutdated() error {
	for _, x := range r.execs {
		if x.Version == r.pipe.Version {
			continue
		}
		for key, a := range r.actions {
			if key[0] == x.ID && a.Status == actionInProgress {
				if err := r.endActionRun(a, actionAbandoned, "", "the pipeline was updated to version "+fmt.Sprint(r.pipe.Version)); err != nil {
					return err
				}
			}
		}
		if s := r.stages[[2]string{x.ID, x.Stage}]; s != nil && !x.Waiting {
			if err := r.setStage(s, cpapi.StageExecutionStatusCancelled); err != nil {
				return err
			}
		}
		if err := r.finishExecution(x, cpapi.PipelineExecutionStatusCancelled,
			fmt.Sprintf("cancelled because the pipeline was updated to version %d", r.pipe.Version)); err != nil {
			return err
		}
	}
	return nil
}

// apply performs one planner command.
func (r *run) apply(c Command) error {
	switch c := c.(type) {
	case EnterStage:
		x := r.execs[c.ExecutionID]
		x.Waiting, x.Updated = false, r.now
		if err := r.q.UpdateExecution(r.ctx, x); err != nil {
			return fmt.Errorf("update execution: %w", err)
		}
		s := r.stages[[2]string{c.ExecutionID, c.Stage}]
		if s == nil {
			s = &store.StageRun{Pipeline: r.pipe.Name, ExecutionID: c.ExecutionID, Stage: c.Stage, Started: r.now}
			r.stages[[2]string{c.ExecutionID, c.Stage}] = s
		}
		s.Attempt++
		s.Status = stageInProgress
		seq, err := r.q.NextSeq(r.ctx, "stage")
		if err != nil {
			return fmt.Errorf("next stage seq: %w", err)
		}
		s.Seq = seq
		state := "STARTED"
		if s.Attempt > 1 {
			state = "RESUMED"
		}
		if err := r.putStage(s); err != nil {
			return err
		}
		return r.stageEvent(s, state)
	case StartAction:
		return r.startAction(c)
	case FinishStage:
		return r.setStage(r.stages[[2]string{c.ExecutionID, c.Stage}], c.Status)
	case Advance:
		x := r.execs[c.ExecutionID]
		x.Stage, x.Waiting, x.Updated = c.Stage, true, r.now
		if err := r.q.UpdateExecution(r.ctx, x); err != nil {
			return fmt.Errorf("update execution: %w", err)
		}
		return nil
	case FinishExecution:
		return r.finishExecution(r.execs[c.ExecutionID], c.Status, c.Summary)
	}
	return fmt.Errorf("unknown command %T", c)
}

func (r *run) putStage(s *store.StageRun) error {
	s.Updated = r.now
	if err := r.q.PutStageRun(r.ctx, s); err != nil {
		return fmt.Errorf("put stage run: %w", err)
	}
	return nil
}

func (r *run) setStage(s *store.StageRun, status string) error {
	s.Status = status
	if err := r.putStage(s); err != nil {
		return err
	}
	return r.stageEvent(s, eventState(status))
}

func (r *run) finishExecution(x *store.Execution, status, summary string) error {
	d, err := decodeDetail[ExecDetail](x.Detail)
	if err != nil {
		return err
	}
	if summary != "" {
		d.Summary = summary
	}
	x.Detail = encodeDetail(d)
	x.Status, x.Updated = status, r.now
	if status != execInProgress && status != execStopping {
		x.Waiting = false
	}
	if err := r.q.UpdateExecution(r.ctx, x); err != nil {
		return fmt.Errorf("update execution: %w", err)
	}
	r.e.log.Info("execution ended", "pipeline", x.Pipeline, "execution", x.ID, "status", status)
	return r.e.pipelineEvent(r.ctx, r.q, x, eventState(status))
}

// endActionRun finishes an action run (and its open job).
func (r *run) endActionRun(a *store.ActionRun, status, code, message string) error {
	return r.e.endActionRun(r.ctx, r.q, r.now, a, status, code, message)
}

func newID() string { return uuid.NewString() }
