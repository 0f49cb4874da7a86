package codepipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/store"
)

// StartPipelineExecution starts an execution of the latest pipeline version.
func (s *Service) StartPipelineExecution(ctx context.Context, in *cpapi.StartPipelineExecutionInput) (*cpapi.StartPipelineExecutionOutput, error) {
	id, err := s.Engine.StartExecution(ctx, in.Name, engine.StartParams{
		TriggerType: cpapi.TriggerTypeStartPipelineExecution, TriggerDetail: awsproto.CallerFrom(ctx).ARN,
		Variables: in.Variables, ClientToken: in.ClientRequestToken, SourceRevisions: in.SourceRevisions,
	})
	if err != nil {
		return nil, err
	}
	return &cpapi.StartPipelineExecutionOutput{PipelineExecutionId: id}, nil
}

// StopPipelineExecution stops an execution, waiting for or abandoning the
// actions in progress.
func (s *Service) StopPipelineExecution(ctx context.Context, in *cpapi.StopPipelineExecutionInput) (*cpapi.StopPipelineExecutionOutput, error) {
	if err := s.Engine.StopExecution(ctx, in.PipelineName, in.PipelineExecutionId, aws.ToBool(in.Abandon), in.Reason); err != nil {
		return nil, err
	}
	return &cpapi.StopPipelineExecutionOutput{PipelineExecutionId: in.PipelineExecutionId}, nil
}

// RetryStageExecution reruns the failed (or all) actions of a stage.
func (s *Service) RetryStageExecution(ctx context.Context, in *cpapi.RetryStageExecutionInput) (*cpapi.RetryStageExecutionOutput, error) {
	if err := s.Engine.RetryStage(ctx, in.PipelineName, in.StageName, in.PipelineExecutionId, in.RetryMode); err != nil {
		return nil, err
	}
	return &cpapi.RetryStageExecutionOutput{PipelineExecutionId: in.PipelineExecutionId}, nil
}

// DisableStageTransition stops executions from entering (Inbound) or
// leaving (Outbound) a stage.
func (s *Service) DisableStageTransition(ctx context.Context, in *cpapi.DisableStageTransitionInput) (*struct{}, error) {
	return nil, s.Engine.SetTransition(ctx, in.PipelineName, in.StageName, in.TransitionType, false, in.Reason, awsproto.CallerFrom(ctx).ARN)
}

// EnableStageTransition lets executions through a transition again.
func (s *Service) EnableStageTransition(ctx context.Context, in *cpapi.EnableStageTransitionInput) (*struct{}, error) {
	return nil, s.Engine.SetTransition(ctx, in.PipelineName, in.StageName, in.TransitionType, true, "", awsproto.CallerFrom(ctx).ARN)
}

// PutApprovalResult approves or rejects a manual approval.
func (s *Service) PutApprovalResult(ctx context.Context, in *cpapi.PutApprovalResultInput) (*cpapi.PutApprovalResultOutput, error) {
	at, err := s.Engine.PutApprovalResult(ctx, in.PipelineName, in.StageName, in.ActionName, in.Token,
		in.Result.Status, in.Result.Summary, awsproto.CallerFrom(ctx).ARN)
	if err != nil {
		return nil, err
	}
	return &cpapi.PutApprovalResultOutput{ApprovedAt: awsproto.NewTime(at)}, nil
}

// GetPipelineState reports each stage's transition, latest execution and
// the latest run of each action.
func (s *Service) GetPipelineState(ctx context.Context, in *cpapi.GetPipelineStateInput) (*cpapi.GetPipelineStateOutput, error) {
	rec, err := s.Store.GetPipeline(ctx, in.Name)
	if err != nil {
		return nil, storeErr(err, pipelineNotFound(in.Name), nil)
	}
	decl, err := decodePipeline(rec)
	if err != nil {
		return nil, err
	}
	transitions, err := s.Store.ListTransitions(ctx, in.Name)
	if err != nil {
		return nil, fmt.Errorf("list transitions: %w", err)
	}
	stageRuns, err := s.Store.LatestStageRuns(ctx, in.Name)
	if err != nil {
		return nil, fmt.Errorf("latest stage runs: %w", err)
	}
	actionRuns, err := s.Store.LatestActionRunsByAction(ctx, in.Name)
	if err != nil {
		return nil, fmt.Errorf("latest action runs: %w", err)
	}
	trans := map[string]*store.Transition{}
	for _, t := range transitions {
		trans[t.Stage] = t
	}
	stages := map[string]*store.StageRun{}
	for _, r := range stageRuns {
		stages[r.Stage] = r
	}
	actions := map[[2]string]*store.ActionRun{}
	for _, r := range actionRuns {
		actions[[2]string{r.Stage, r.Action}] = r
	}
	out := &cpapi.GetPipelineStateOutput{PipelineName: rec.Name, PipelineVersion: aws.Int32(rec.Version),
		Created: awsproto.NewTime(rec.Created), Updated: awsproto.NewTime(rec.Updated), StageStates: []cpapi.StageState{}}
	for i, st := range decl.Stages {
		ss := cpapi.StageState{StageName: st.Name, ActionStates: []cpapi.ActionState{}}
		if i > 0 {
			ts := &cpapi.TransitionState{Enabled: aws.Bool(true)}
			if t := trans[st.Name]; t != nil {
				ts = &cpapi.TransitionState{Enabled: aws.Bool(!t.Disabled), LastChangedAt: awsproto.NewTime(t.ChangedAt), LastChangedBy: t.ChangedBy}
				if t.Disabled {
					ts.DisabledReason = t.Reason
				}
			}
			ss.InboundTransitionState = ts
		}
		if r := stages[st.Name]; r != nil {
			ss.LatestExecution = &cpapi.StageExecution{PipelineExecutionId: r.ExecutionID, Status: r.Status, Type: cpapi.ExecutionTypeStandard}
		}
		for _, a := range st.Actions {
			as := cpapi.ActionState{ActionName: a.Name}
			if r := actions[[2]string{st.Name, a.Name}]; r != nil {
				d, err := engine.DecodeActionDetail(r.Detail)
				if err != nil {
					return nil, err
				}
				as.EntityUrl = d.EntityURL
				as.CurrentRevision = d.Revision
				as.LatestExecution = actionExecution(r, d)
			}
			ss.ActionStates = append(ss.ActionStates, as)
		}
		out.StageStates = append(out.StageStates, ss)
	}
	return out, nil
}

func actionExecution(r *store.ActionRun, d *engine.ActionDetail) *cpapi.ActionExecution {
	ae := &cpapi.ActionExecution{ActionExecutionId: r.ID, Status: r.Status, LastStatusChange: awsproto.NewTime(r.Updated),
		Summary: d.Summary, LastUpdatedBy: d.UpdatedBy, PercentComplete: d.PercentComplete}
	if r.Status == cpapi.ActionExecutionStatusInProgress {
		ae.Token = d.Token
	}
	if er := d.Output.ExecutionResult; er != nil {
		ae.ExternalExecutionId, ae.ExternalExecutionUrl = er.ExternalExecutionId, er.ExternalExecutionUrl
		ae.ErrorDetails = er.ErrorDetails
	}
	return ae
}

func (s *Service) execution(ctx context.Context, pipeline, id string) (*store.Execution, error) {
	if _, err := s.Store.GetPipeline(ctx, pipeline); err != nil {
		return nil, storeErr(err, pipelineNotFound(pipeline), nil)
	}
	x, err := s.Store.GetExecution(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && x.Pipeline != pipeline) {
		return nil, awsproto.Errorf(cpapi.PipelineExecutionNotFoundException, "pipeline %q has no execution %q", pipeline, id)
	}
	if err != nil {
		return nil, fmt.Errorf("get execution: %w", err)
	}
	return x, nil
}

// sourceRevisions returns the revisions the source actions of executions
// recorded, by execution ID.
func (s *Service) sourceRevisions(ctx context.Context, ids []string) (map[string][]cpapi.SourceRevision, error) {
	runs, err := s.Store.LatestActionRuns(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("latest action runs: %w", err)
	}
	out := map[string][]cpapi.SourceRevision{}
	for _, r := range runs {
		d, err := engine.DecodeActionDetail(r.Detail)
		if err != nil {
			return nil, err
		}
		if d.Revision != nil && d.Input.ActionTypeId != nil && d.Input.ActionTypeId.Category == cpapi.ActionCategorySource {
			out[r.ExecutionID] = append(out[r.ExecutionID], cpapi.SourceRevision{ActionName: r.Action,
				RevisionId: d.Revision.RevisionId, RevisionSummary: d.Summary})
		}
	}
	return out, nil
}

// GetPipelineExecution describes one execution.
func (s *Service) GetPipelineExecution(ctx context.Context, in *cpapi.GetPipelineExecutionInput) (*cpapi.GetPipelineExecutionOutput, error) {
	x, err := s.execution(ctx, in.PipelineName, in.PipelineExecutionId)
	if err != nil {
		return nil, err
	}
	d, err := engine.DecodeExecDetail(x.Detail)
	if err != nil {
		return nil, err
	}
	revs, err := s.sourceRevisions(ctx, []string{x.ID})
	if err != nil {
		return nil, err
	}
	pe := &cpapi.PipelineExecution{PipelineName: x.Pipeline, PipelineVersion: aws.Int32(x.Version), PipelineExecutionId: x.ID,
		Status: x.Status, StatusSummary: d.Summary, Trigger: d.Trigger, Variables: d.Variables,
		ExecutionMode: executionMode(d), ExecutionType: cpapi.ExecutionTypeStandard, ArtifactRevisions: []cpapi.ArtifactRevision{}}
	for _, r := range revs[x.ID] {
		pe.ArtifactRevisions = append(pe.ArtifactRevisions, cpapi.ArtifactRevision{Name: r.ActionName, RevisionId: r.RevisionId, RevisionSummary: r.RevisionSummary})
	}
	return &cpapi.GetPipelineExecutionOutput{PipelineExecution: pe}, nil
}

func executionMode(d *engine.ExecDetail) string {
	if d.ExecutionMode == "" {
		return cpapi.ExecutionModeSuperseded
	}
	return d.ExecutionMode
}

func pageLimit(max *int32, def int) int {
	if max == nil {
		return def
	}
	return int(*max)
}

func seqToken(token string) (int64, error) {
	key, err := decodeToken(token)
	if err != nil || key == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil || n <= 0 {
		return 0, awsproto.Errorf(cpapi.InvalidNextTokenException, "the nextToken is not one this server returned; start the listing again without it")
	}
	return n, nil
}

// ListPipelineExecutions lists a pipeline's executions, newest first.
func (s *Service) ListPipelineExecutions(ctx context.Context, in *cpapi.ListPipelineExecutionsInput) (*cpapi.ListPipelineExecutionsOutput, error) {
	before, err := seqToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.GetPipeline(ctx, in.PipelineName); err != nil {
		return nil, storeErr(err, pipelineNotFound(in.PipelineName), nil)
	}
	limit := pageLimit(in.MaxResults, 100)
	var succeededIn string
	if in.Filter != nil && in.Filter.SucceededInStage != nil {
		succeededIn = in.Filter.SucceededInStage.StageName
	}
	out := &cpapi.ListPipelineExecutionsOutput{PipelineExecutionSummaries: []cpapi.PipelineExecutionSummary{}}
	for {
		rows, err := s.Store.ListExecutions(ctx, in.PipelineName, before, limit+1)
		if err != nil {
			return nil, fmt.Errorf("list executions: %w", err)
		}
		keep, err := s.filterSucceededIn(ctx, rows, succeededIn)
		if err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(rows))
		for _, x := range rows {
			ids = append(ids, x.ID)
		}
		revs, err := s.sourceRevisions(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, x := range rows {
			if !keep[x.ID] {
				before = x.Seq
				continue
			}
			if len(out.PipelineExecutionSummaries) == limit {
				out.NextToken = encodeToken(strconv.FormatInt(before, 10))
				return out, nil
			}
			d, err := engine.DecodeExecDetail(x.Detail)
			if err != nil {
				return nil, err
			}
			sum := cpapi.PipelineExecutionSummary{PipelineExecutionId: x.ID, Status: x.Status, StatusSummary: d.Summary,
				StartTime: awsproto.NewTime(x.Started), LastUpdateTime: awsproto.NewTime(x.Updated), Trigger: d.Trigger,
				ExecutionMode: executionMode(d), ExecutionType: cpapi.ExecutionTypeStandard, SourceRevisions: revs[x.ID]}
			if d.StopReason != "" || x.Status == cpapi.PipelineExecutionStatusStopped {
				sum.StopTrigger = &cpapi.StopExecutionTrigger{Reason: d.StopReason}
			}
			out.PipelineExecutionSummaries = append(out.PipelineExecutionSummaries, sum)
			before = x.Seq
		}
		if len(rows) <= limit {
			return out, nil
		}
	}
}

// filterSucceededIn returns the IDs of the executions whose run of stage
// succeeded (all of them when stage is empty).
func (s *Service) filterSucceededIn(ctx context.Context, rows []*store.Execution, stage string) (map[string]bool, error) {
	keep := map[string]bool{}
	ids := make([]string, len(rows))
	for i, x := range rows {
		ids[i] = x.ID
		keep[x.ID] = stage == ""
	}
	if stage == "" {
		return keep, nil
	}
	runs, err := s.Store.ListStageRuns(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list stage runs: %w", err)
	}
	for _, r := range runs {
		if r.Stage == stage && r.Status == cpapi.StageExecutionStatusSucceeded {
			keep[r.ExecutionID] = true
		}
	}
	return keep, nil
}

// ListActionExecutions lists action runs, newest first, with their input
// (resolved configuration, secrets masked) and output.
func (s *Service) ListActionExecutions(ctx context.Context, in *cpapi.ListActionExecutionsInput) (*cpapi.ListActionExecutionsOutput, error) {
	before, err := seqToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.GetPipeline(ctx, in.PipelineName); err != nil {
		return nil, storeErr(err, pipelineNotFound(in.PipelineName), nil)
	}
	f := store.ActionRunFilter{Pipeline: in.PipelineName, BeforeSeq: before, Limit: pageLimit(in.MaxResults, 100) + 1}
	if in.Filter != nil && in.Filter.PipelineExecutionId != "" {
		if _, err := s.execution(ctx, in.PipelineName, in.Filter.PipelineExecutionId); err != nil {
			return nil, err
		}
		f.ExecutionID = in.Filter.PipelineExecutionId
	}
	runs, err := s.Store.ListActionRuns(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list action runs: %w", err)
	}
	out := &cpapi.ListActionExecutionsOutput{ActionExecutionDetails: []cpapi.ActionExecutionDetail{}}
	limit := f.Limit - 1
	if len(runs) > limit {
		runs = runs[:limit]
		out.NextToken = encodeToken(strconv.FormatInt(runs[limit-1].Seq, 10))
	}
	versions := map[string]int32{}
	for _, r := range runs {
		d, err := engine.DecodeActionDetail(r.Detail)
		if err != nil {
			return nil, err
		}
		v, ok := versions[r.ExecutionID]
		if !ok {
			if x, err := s.Store.GetExecution(ctx, r.ExecutionID); err == nil {
				v = x.Version
			}
			versions[r.ExecutionID] = v
		}
		input, output := d.Input, d.Output
		out.ActionExecutionDetails = append(out.ActionExecutionDetails, cpapi.ActionExecutionDetail{
			PipelineExecutionId: r.ExecutionID, ActionExecutionId: r.ID, PipelineVersion: aws.Int32(v),
			StageName: r.Stage, ActionName: r.Action, StartTime: awsproto.NewTime(r.Started), LastUpdateTime: awsproto.NewTime(r.Updated),
			UpdatedBy: d.UpdatedBy, Status: r.Status, Input: &input, Output: &output,
		})
	}
	return out, nil
}
