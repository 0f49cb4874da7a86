package codepipeline

import (
	"context"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
)

// The third-party (partner) job API: the job-worker protocol for action
// types owned by ThirdParty, in which every call after the poll presents a
// clientToken. Slipway has no partner registration, so the clientId that
// PollForThirdPartyJobs returns with a job is issued by that poll (a fresh
// random UUID recorded on the job) and the clientToken of the other calls
// must equal it; a job offered again gets a new one. The engine keeps the
// rules (engine.PollThirdPartyJobs and the functions after it); these
// handlers only translate shapes.

// PollForThirdPartyJobs hands queued jobs of a ThirdParty action type to a
// partner's job worker.
func (s *Service) PollForThirdPartyJobs(ctx context.Context, in *cpapi.PollForThirdPartyJobsInput) (*cpapi.PollForThirdPartyJobsOutput, error) {
	if in.ActionTypeId.Owner != cpapi.ActionOwnerThirdParty {
		return nil, awsproto.Errorf(cpapi.ValidationException, "PollForThirdPartyJobs serves action types owned by ThirdParty, not %s; poll %s action types with PollForJobs", in.ActionTypeId.Owner, in.ActionTypeId.Owner)
	}
	if _, err := s.actionType(ctx, in.ActionTypeId); err != nil {
		return nil, err
	}
	views, err := s.Engine.PollThirdPartyJobs(ctx, *in.ActionTypeId, maxBatch(in.MaxBatchSize))
	if err != nil {
		return nil, err
	}
	out := &cpapi.PollForThirdPartyJobsOutput{Jobs: []cpapi.ThirdPartyJob{}}
	for _, v := range views {
		out.Jobs = append(out.Jobs, cpapi.ThirdPartyJob{ClientId: v.ClientID, JobId: v.ID})
	}
	return out, nil
}

// GetThirdPartyJobDetails returns a third-party job's data, secrets in
// clear, and the nonce to acknowledge it with.
func (s *Service) GetThirdPartyJobDetails(ctx context.Context, in *cpapi.GetThirdPartyJobDetailsInput) (*cpapi.GetThirdPartyJobDetailsOutput, error) {
	v, err := s.Engine.GetThirdPartyJob(ctx, in.JobId, in.ClientToken)
	if err != nil {
		return nil, err
	}
	return &cpapi.GetThirdPartyJobDetailsOutput{JobDetails: &cpapi.ThirdPartyJobDetails{Id: v.ID, Nonce: v.Nonce, Data: thirdPartyJobData(v.Data)}}, nil
}

// thirdPartyJobData is the partner's view of a job's data: the model
// documents that its pipeline context has no pipelineArn and no
// pipelineExecutionId.
func thirdPartyJobData(d *cpapi.JobData) *cpapi.ThirdPartyJobData {
	out := &cpapi.ThirdPartyJobData{
		ActionConfiguration: d.ActionConfiguration, ActionTypeId: d.ActionTypeId, ArtifactCredentials: d.ArtifactCredentials,
		ContinuationToken: d.ContinuationToken, EncryptionKey: d.EncryptionKey,
		InputArtifacts: d.InputArtifacts, OutputArtifacts: d.OutputArtifacts,
	}
	if pc := d.PipelineContext; pc != nil {
		out.PipelineContext = &cpapi.PipelineContext{PipelineName: pc.PipelineName, Stage: pc.Stage, Action: pc.Action}
	}
	return out
}

// AcknowledgeThirdPartyJob confirms a partner worker's claim on a job.
func (s *Service) AcknowledgeThirdPartyJob(ctx context.Context, in *cpapi.AcknowledgeThirdPartyJobInput) (*cpapi.AcknowledgeThirdPartyJobOutput, error) {
	status, err := s.Engine.AcknowledgeThirdPartyJob(ctx, in.JobId, in.Nonce, in.ClientToken)
	if err != nil {
		return nil, err
	}
	return &cpapi.AcknowledgeThirdPartyJobOutput{Status: status}, nil
}

// PutThirdPartyJobSuccessResult reports a third-party job's success, or its
// progress with a continuation token.
func (s *Service) PutThirdPartyJobSuccessResult(ctx context.Context, in *cpapi.PutThirdPartyJobSuccessResultInput) (*struct{}, error) {
	return nil, s.Engine.CompleteThirdPartyJob(ctx, in.JobId, in.ClientToken, engine.JobResult{Success: true,
		ContinuationToken: in.ContinuationToken, ExecutionDetails: in.ExecutionDetails, CurrentRevision: in.CurrentRevision})
}

// PutThirdPartyJobFailureResult reports a third-party job's failure.
func (s *Service) PutThirdPartyJobFailureResult(ctx context.Context, in *cpapi.PutThirdPartyJobFailureResultInput) (*struct{}, error) {
	return nil, s.Engine.CompleteThirdPartyJob(ctx, in.JobId, in.ClientToken, engine.JobResult{Failure: in.FailureDetails})
}
