package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/store"
)

func pipelineNotFound(name string) error {
	return awsproto.Errorf(cpapi.PipelineNotFoundException, "pipeline %q does not exist", name)
}

// getPipeline reads and decodes the latest version of a pipeline.
func getPipeline(ctx context.Context, q store.Queries, name string) (*store.Pipeline, *cpapi.PipelineDeclaration, error) {
	p, err := q.GetPipeline(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, pipelineNotFound(name)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get pipeline: %w", err)
	}
	var d cpapi.PipelineDeclaration
	if err := json.Unmarshal(p.Declaration, &d); err != nil {
		return nil, nil, fmt.Errorf("decode pipeline %q: %w", name, err)
	}
	return p, &d, nil
}

func stageIndex(d *cpapi.PipelineDeclaration, stage string) int {
	for i, s := range d.Stages {
		if s.Name == stage {
			return i
		}
	}
	return -1
}

// StartParams describe a new execution.
type StartParams struct {
	TriggerType     string // TriggerType enum, e.g. StartPipelineExecution
	TriggerDetail   string // e.g. the caller's ARN
	Variables       []cpapi.PipelineVariable
	ClientToken     string
	SourceRevisions []cpapi.SourceRevisionOverride
}

// StartExecution starts an execution of the pipeline's latest version and
// returns its ID. A repeated ClientToken returns the execution it started.
func (e *Engine) StartExecution(ctx context.Context, name string, p StartParams) (string, error) {
	var id string
	err := e.store.InTx(ctx, func(q store.Queries) error {
		pipe, decl, err := getPipeline(ctx, q, name)
		if err != nil {
			return err
		}
		if p.ClientToken != "" {
			x, err := q.FindExecutionByToken(ctx, name, p.ClientToken)
			if err == nil {
				id = x.ID
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("find execution by token: %w", err)
			}
		}
		for _, o := range p.SourceRevisions {
			if !isSourceAction(decl, o.ActionName) {
				return awsproto.Errorf(cpapi.ValidationException, "sourceRevisions names action %q, which is not a source action of pipeline %q", o.ActionName, name)
			}
		}
		vars, err := resolvePipelineVariables(decl, p.Variables)
		if err != nil {
			return err
		}
		seq, err := q.NextSeq(ctx, "execution")
		if err != nil {
			return fmt.Errorf("next execution seq: %w", err)
		}
		now := e.clock()
		x := &store.Execution{ID: newID(), Pipeline: name, Seq: seq, Version: pipe.Version, Status: execInProgress,
			Stage: decl.Stages[0].Name, Waiting: true, ClientToken: p.ClientToken, Started: now, Updated: now}
		x.Detail = encodeDetail(ExecDetail{
			Trigger:   &cpapi.ExecutionTrigger{TriggerType: p.TriggerType, TriggerDetail: p.TriggerDetail},
			Variables: vars, SourceRevisions: p.SourceRevisions, ExecutionMode: decl.ExecutionMode,
		})
		if err := q.CreateExecution(ctx, x); err != nil {
			return fmt.Errorf("create execution: %w", err)
		}
		id = x.ID
		return e.pipelineEvent(ctx, q, x, "STARTED")
	})
	if err != nil {
		return "", err
	}
	e.Kick(name)
	return id, nil
}

// resolvePipelineVariables applies the values given at start over the
// declared defaults.
func resolvePipelineVariables(d *cpapi.PipelineDeclaration, given []cpapi.PipelineVariable) ([]cpapi.ResolvedPipelineVariable, error) {
	declared := map[string]*cpapi.PipelineVariableDeclaration{}
	for i := range d.Variables {
		declared[d.Variables[i].Name] = &d.Variables[i]
	}
	values := map[string]string{}
	for _, v := range given {
		if declared[v.Name] == nil {
			return nil, awsproto.Errorf(cpapi.ValidationException, "variable %q is not declared by pipeline %q; declare it in the pipeline's variables", v.Name, d.Name)
		}
		if _, dup := values[v.Name]; dup {
			return nil, awsproto.Errorf(cpapi.ValidationException, "variable %q is given twice", v.Name)
		}
		values[v.Name] = v.Value
	}
	out := make([]cpapi.ResolvedPipelineVariable, 0, len(d.Variables))
	for _, dv := range d.Variables {
		val, ok := values[dv.Name]
		if !ok {
			if dv.DefaultValue == "" {
				return nil, awsproto.Errorf(cpapi.ValidationException, "variable %q has no default value; give it a value when starting the execution", dv.Name)
			}
			val = dv.DefaultValue
		}
		out = append(out, cpapi.ResolvedPipelineVariable{Name: dv.Name, ResolvedValue: val})
	}
	return out, nil
}

// StopExecution stops an execution: it finishes the actions in progress
// (or abandons them) and starts nothing new.
func (e *Engine) StopExecution(ctx context.Context, name, execID string, abandon bool, reason string) error {
	err := e.store.InTx(ctx, func(q store.Queries) error {
		if _, _, err := getPipeline(ctx, q, name); err != nil {
			return err
		}
		x, err := q.GetExecution(ctx, execID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && x.Pipeline != name) {
			return awsproto.Errorf(cpapi.PipelineExecutionNotStoppableException, "pipeline %q has no execution %q", name, execID)
		}
		if err != nil {
			return fmt.Errorf("get execution: %w", err)
		}
		d, err := decodeDetail[ExecDetail](x.Detail)
		if err != nil {
			return err
		}
		switch {
		case x.Status == execStopping && (d.Abandon || !abandon):
			return awsproto.Errorf(cpapi.DuplicatedStopRequestException, "execution %s is already stopping", execID)
		case x.Status != execInProgress && x.Status != execStopping:
			return awsproto.Errorf(cpapi.PipelineExecutionNotStoppableException, "execution %s is %s; only an InProgress execution can be stopped", execID, x.Status)
		}
		now := e.clock()
		if reason != "" { // a second stop (to abandon) keeps the first one's reason unless it gives one
			d.StopReason = reason
		}
		d.Abandon = abandon
		x.Detail, x.Status, x.Updated = encodeDetail(d), execStopping, now
		if err := q.UpdateExecution(ctx, x); err != nil {
			return fmt.Errorf("update execution: %w", err)
		}
		if !x.Waiting {
			runs, err := q.ListStageRuns(ctx, []string{x.ID})
			if err != nil {
				return fmt.Errorf("list stage runs: %w", err)
			}
			for _, s := range runs {
				if s.Stage == x.Stage && s.Status == stageInProgress {
					s.Status, s.Updated = stageStopping, now
					if err := q.PutStageRun(ctx, s); err != nil {
						return fmt.Errorf("put stage run: %w", err)
					}
					if err := e.stageEvent(ctx, q, s, x.Version, "STOPPING"); err != nil {
						return err
					}
				}
			}
		}
		if abandon {
			runs, err := q.LatestActionRuns(ctx, []string{x.ID})
			if err != nil {
				return fmt.Errorf("list action runs: %w", err)
			}
			for _, a := range runs {
				if a.Status == actionInProgress {
					if err := e.endActionRun(ctx, q, now, a, actionAbandoned, "", "abandoned: "+orDefault(reason, "the execution was stopped")); err != nil {
						return err
					}
				}
			}
		}
		return e.pipelineEvent(ctx, q, x, "STOPPING")
	})
	if err != nil {
		return err
	}
	e.Kick(name)
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// RetryStage reruns the failed (or all) actions of a failed stage of the
// latest execution in that stage.
func (e *Engine) RetryStage(ctx context.Context, name, stage, execID, mode string) error {
	err := e.store.InTx(ctx, func(q store.Queries) error {
		pipe, decl, err := getPipeline(ctx, q, name)
		if err != nil {
			return err
		}
		if stageIndex(decl, stage) < 0 {
			return awsproto.Errorf(cpapi.StageNotFoundException, "pipeline %q has no stage %q", name, stage)
		}
		latest, err := q.LatestStageRuns(ctx, name)
		if err != nil {
			return fmt.Errorf("latest stage runs: %w", err)
		}
		var s *store.StageRun
		for _, r := range latest {
			if r.Stage == stage {
				s = r
			}
		}
		if s == nil || s.ExecutionID != execID {
			return awsproto.Errorf(cpapi.NotLatestPipelineExecutionException,
				"execution %s is not the latest execution in stage %q; retry the stage of the execution GetPipelineState shows for it", execID, stage)
		}
		x, err := q.GetExecution(ctx, execID)
		if err != nil {
			return fmt.Errorf("get execution: %w", err)
		}
		switch {
		case s.Status == stageInProgress || s.Status == stageStopping:
			return awsproto.Errorf(cpapi.StageNotRetryableException, "stage %q of execution %s is still %s; retry it once it has failed or stopped", stage, execID, s.Status)
		case s.Status != stageFailed && s.Status != stageStopped:
			return awsproto.Errorf(cpapi.StageNotRetryableException, "stage %q of execution %s is %s; only a Failed or Stopped stage can be retried", stage, execID, s.Status)
		case x.Version != pipe.Version:
			return awsproto.Errorf(cpapi.StageNotRetryableException, "the pipeline structure changed (version %d to %d) after the stage failed; start a new execution instead", x.Version, pipe.Version)
		case x.Status != execFailed && x.Status != execStopped:
			return awsproto.Errorf(cpapi.StageNotRetryableException, "execution %s is %s; only a Failed or Stopped execution can be retried", execID, x.Status)
		}
		now := e.clock()
		seq, err := q.NextSeq(ctx, "stage")
		if err != nil {
			return fmt.Errorf("next stage seq: %w", err)
		}
		s.Attempt, s.RetryMode, s.Status, s.Seq, s.Updated = s.Attempt+1, mode, stageInProgress, seq, now
		if err := q.PutStageRun(ctx, s); err != nil {
			return fmt.Errorf("put stage run: %w", err)
		}
		x.Status, x.Stage, x.Waiting, x.Updated = execInProgress, stage, false, now
		if err := q.UpdateExecution(ctx, x); err != nil {
			return fmt.Errorf("update execution: %w", err)
		}
		if err := e.pipelineEvent(ctx, q, x, "RESUMED"); err != nil {
			return err
		}
		return e.stageEvent(ctx, q, s, x.Version, "RESUMED")
	})
	if err != nil {
		return err
	}
	e.Kick(name)
	return nil
}

// SetTransition enables or disables a stage's inbound transition (an
// Outbound transition of a stage is the inbound one of the next stage).
func (e *Engine) SetTransition(ctx context.Context, name, stage, typ string, enabled bool, reason, changedBy string) error {
	err := e.store.InTx(ctx, func(q store.Queries) error {
		_, decl, err := getPipeline(ctx, q, name)
		if err != nil {
			return err
		}
		i := stageIndex(decl, stage)
		if i < 0 {
			return awsproto.Errorf(cpapi.StageNotFoundException, "pipeline %q has no stage %q", name, stage)
		}
		target := stage
		if typ == cpapi.StageTransitionTypeInbound && i == 0 {
			// Executions start in the first stage: there is no transition
			// into it (GetPipelineState shows none), and a disabled one
			// would hold every new execution out of sight.
			return awsproto.Errorf(cpapi.ValidationException, "stage %q is the first stage of pipeline %q and has no inbound transition", stage, name)
		}
		if typ == cpapi.StageTransitionTypeOutbound {
			if i+1 == len(decl.Stages) {
				return awsproto.Errorf(cpapi.ValidationException, "stage %q is the last stage of pipeline %q and has no outbound transition", stage, name)
			}
			target = decl.Stages[i+1].Name
		}
		return q.PutTransition(ctx, &store.Transition{Pipeline: name, Stage: target, Disabled: !enabled, Reason: reason, ChangedBy: changedBy, ChangedAt: e.clock()})
	})
	if err != nil {
		return err
	}
	e.Kick(name)
	return nil
}

// PutApprovalResult records an approver's answer to a manual approval.
func (e *Engine) PutApprovalResult(ctx context.Context, name, stage, action, token, status, summary, by string) (time.Time, error) {
	now := e.clock()
	err := e.store.InTx(ctx, func(q store.Queries) error {
		_, decl, err := getPipeline(ctx, q, name)
		if err != nil {
			return err
		}
		i := stageIndex(decl, stage)
		if i < 0 {
			return awsproto.Errorf(cpapi.StageNotFoundException, "pipeline %q has no stage %q", name, stage)
		}
		found := false
		for _, a := range decl.Stages[i].Actions {
			found = found || (a.Name == action && isApproval(a.ActionTypeId))
		}
		if !found {
			return awsproto.Errorf(cpapi.ActionNotFoundException, "stage %q of pipeline %q has no manual approval action %q", stage, name, action)
		}
		runs, err := approvalRuns(ctx, q, name)
		if err != nil {
			return err
		}
		for _, a := range runs {
			if a.Stage != stage || a.Action != action {
				continue
			}
			d, err := decodeDetail[ActionDetail](a.Detail)
			if err != nil {
				return err
			}
			if d.Token != token {
				continue
			}
			if a.Status != actionInProgress {
				return awsproto.Errorf(cpapi.ApprovalAlreadyCompletedException, "approval %q in stage %q was already completed (%s)", action, stage, a.Status)
			}
			d.Summary, d.UpdatedBy = summary, by
			d.Output.ExecutionResult = &cpapi.ActionExecutionResult{ExternalExecutionSummary: summary}
			a.Detail = encodeDetail(d)
			if status == cpapi.ApprovalStatusApproved {
				return e.endActionRun(ctx, q, now, a, actionSucceeded, "", "")
			}
			return e.endActionRun(ctx, q, now, a, actionFailed, codeJobFailed, "Rejected by "+by+": "+summary)
		}
		return awsproto.Errorf(cpapi.InvalidApprovalTokenException, "token %q does not match the current approval request of action %q; read the token from GetPipelineState", token, action)
	})
	if err != nil {
		return time.Time{}, err
	}
	e.Kick(name)
	return now, nil
}

// approvalRuns returns the action runs an approval token may belong to:
// the latest run of each action of every active execution (in PARALLEL
// mode several executions may wait at the same approval, each with its own
// token, while GetPipelineState shows only the newest), then the
// pipeline's latest run of each action (so that the token of an approval
// already answered is recognised as completed).
func approvalRuns(ctx context.Context, q store.Queries, name string) ([]*store.ActionRun, error) {
	execs, err := q.ListActiveExecutions(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("list active executions: %w", err)
	}
	ids := make([]string, 0, len(execs))
	for _, x := range execs {
		ids = append(ids, x.ID)
	}
	active, err := q.LatestActionRuns(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("latest action runs: %w", err)
	}
	latest, err := q.LatestActionRunsByAction(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("latest action runs: %w", err)
	}
	return append(active, latest...), nil
}

// expireJob handles a job whose lease ran out; it returns the pipelines to
// reconcile.
func (e *Engine) expireJob(ctx context.Context, q store.Queries, j *store.Job, now time.Time) ([]string, error) {
	switch j.Status {
	case cpapi.JobStatusDispatched:
		rec, err := decodeDetail[jobRecord](j.Data)
		if err != nil {
			return nil, err
		}
		if rec.ClientID != "" { // the third-party worker that had it loses it
			rec.ClientID = ""
			j.Data = encodeDetail(rec)
		}
		j.Status, j.Nonce, j.LeaseUntil, j.Updated = cpapi.JobStatusQueued, "", time.Time{}, now
		if err := q.UpdateJob(ctx, j); err != nil {
			return nil, fmt.Errorf("requeue job: %w", err)
		}
		return nil, nil
	case cpapi.JobStatusInProgress:
		j.Status, j.LeaseUntil, j.Updated = cpapi.JobStatusTimedOut, time.Time{}, now
		if err := q.UpdateJob(ctx, j); err != nil {
			return nil, fmt.Errorf("time out job: %w", err)
		}
		a, err := q.GetActionRun(ctx, j.ActionRunID)
		if err != nil {
			return nil, fmt.Errorf("get action run: %w", err)
		}
		if a.Status == actionInProgress {
			msg := fmt.Sprintf("the job timed out: its worker reported no result before its lease ended (the job timeout is %s; a heartbeat holds the job for %s)", e.cfg.jobTimeout(j.Type), e.cfg.HeartbeatLease)
			if err := e.endActionRun(ctx, q, now, a, actionFailed, codeJobFailed, msg); err != nil {
				return nil, err
			}
		}
		return []string{j.Pipeline}, nil
	}
	return nil, nil
}

// expireApproval fails an approval nobody answered in time.
func (e *Engine) expireApproval(ctx context.Context, q store.Queries, a *store.ActionRun, now time.Time) error {
	msg := "the approval expired: nobody approved or rejected it in time"
	if !a.Started.IsZero() && a.Deadline.After(a.Started) {
		msg = fmt.Sprintf("the approval expired: nobody approved or rejected it within %s", a.Deadline.Sub(a.Started))
	}
	return e.endActionRun(ctx, q, now, a, actionFailed, codeJobFailed, msg)
}

// isSourceAction reports whether the first stage has a source action name.
func isSourceAction(d *cpapi.PipelineDeclaration, name string) bool {
	for _, a := range d.Stages[0].Actions {
		if a.Name == name && a.ActionTypeId != nil && a.ActionTypeId.Category == cpapi.ActionCategorySource {
			return true
		}
	}
	return false
}
