package codepipeline

import (
	"context"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
)

// actionType looks up the action type a job worker polls for.
func (s *Service) actionType(ctx context.Context, id *cpapi.ActionTypeId) (*cpapi.ActionType, error) {
	cat, err := s.catalog(ctx, s.Store)
	if err != nil {
		return nil, err
	}
	t, ok := cat.Lookup(*id)
	if !ok {
		return nil, awsproto.Errorf(cpapi.ActionTypeNotFoundException, "action type %s/%s/%s version %s does not exist", id.Category, id.Owner, id.Provider, id.Version)
	}
	return t, nil
}

func maxBatch(n *int32) int {
	if n == nil {
		return 1
	}
	return int(*n)
}

// PollForJobs hands queued jobs of an action type to a job worker, with
// the labels of its X-Slipway-Worker-Labels header (see WithWorkerLabels).
func (s *Service) PollForJobs(ctx context.Context, in *cpapi.PollForJobsInput) (*cpapi.PollForJobsOutput, error) {
	labels, err := workerLabels(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.actionType(ctx, in.ActionTypeId)
	if err != nil {
		return nil, err
	}
	for k := range in.QueryParam {
		if !queryable(t, k) {
			return nil, awsproto.Errorf(cpapi.ValidationException, "queryParam %q is not a queryable configuration property of this action type", k)
		}
	}
	views, err := s.Engine.PollWorkerJobs(ctx, *in.ActionTypeId, maxBatch(in.MaxBatchSize), in.QueryParam, labels)
	if err != nil {
		return nil, err
	}
	out := &cpapi.PollForJobsOutput{Jobs: []cpapi.Job{}}
	for _, v := range views {
		out.Jobs = append(out.Jobs, cpapi.Job{Id: v.ID, Nonce: v.Nonce, Data: v.Data, AccountId: s.AccountID})
	}
	return out, nil
}

func queryable(t *cpapi.ActionType, name string) bool {
	for _, p := range t.ActionConfigurationProperties {
		if p.Name == name && p.Queryable != nil && *p.Queryable {
			return true
		}
	}
	return false
}

// AcknowledgeJob confirms a worker's claim on a job.
func (s *Service) AcknowledgeJob(ctx context.Context, in *cpapi.AcknowledgeJobInput) (*cpapi.AcknowledgeJobOutput, error) {
	status, err := s.Engine.AcknowledgeJob(ctx, in.JobId, in.Nonce)
	if err != nil {
		return nil, err
	}
	return &cpapi.AcknowledgeJobOutput{Status: status}, nil
}

// GetJobDetails returns a job's data.
func (s *Service) GetJobDetails(ctx context.Context, in *cpapi.GetJobDetailsInput) (*cpapi.GetJobDetailsOutput, error) {
	v, err := s.Engine.GetJob(ctx, in.JobId)
	if err != nil {
		return nil, err
	}
	return &cpapi.GetJobDetailsOutput{JobDetails: &cpapi.JobDetails{Id: v.ID, Data: v.Data, AccountId: s.AccountID}}, nil
}

// PutJobSuccessResult reports a job's success, or its progress with a
// continuation token.
func (s *Service) PutJobSuccessResult(ctx context.Context, in *cpapi.PutJobSuccessResultInput) (*struct{}, error) {
	return nil, s.Engine.CompleteJob(ctx, in.JobId, engine.JobResult{Success: true, ContinuationToken: in.ContinuationToken,
		ExecutionDetails: in.ExecutionDetails, CurrentRevision: in.CurrentRevision, OutputVariables: in.OutputVariables})
}

// PutJobFailureResult reports a job's failure.
func (s *Service) PutJobFailureResult(ctx context.Context, in *cpapi.PutJobFailureResultInput) (*struct{}, error) {
	return nil, s.Engine.CompleteJob(ctx, in.JobId, engine.JobResult{Failure: in.FailureDetails})
}
