package worker

import (
	"context"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
)

// Local is a JobSource over the engine of the same process.
type Local struct {
	Engine *engine.Engine
	// Notify, when set, is signalled when jobs may be waiting.
	Notify <-chan struct{}
	// Labels are the worker's labels (engine.Engine.PollWorkerJobs).
	Labels []string
}

// Poll claims up to max jobs of a type.
func (l *Local) Poll(ctx context.Context, t cpapi.ActionTypeId, max int) ([]*Job, error) {
	views, err := l.Engine.PollWorkerJobs(ctx, t, max, nil, l.Labels)
	if err != nil {
		return nil, err
	}
	jobs := make([]*Job, len(views))
	for i, v := range views {
		jobs[i] = &Job{ID: v.ID, Nonce: v.Nonce, Data: v.Data}
	}
	return jobs, nil
}

// Acknowledge confirms the claim.
func (l *Local) Acknowledge(ctx context.Context, id, nonce string) error {
	_, err := l.Engine.AcknowledgeJob(ctx, id, nonce)
	return err
}

// Heartbeat extends the claim.
func (l *Local) Heartbeat(ctx context.Context, id, nonce string) error {
	return l.Engine.HeartbeatJob(ctx, id, nonce)
}

// Succeed reports success.
func (l *Local) Succeed(ctx context.Context, id string, r *Result) error {
	res := engine.JobResult{Success: true, ContinuationToken: r.ContinuationToken, OutputVariables: r.OutputVariables, CurrentRevision: r.Revision}
	if r.Summary != "" || r.ExternalExecutionID != "" {
		res.ExecutionDetails = &cpapi.ExecutionDetails{Summary: truncate(r.Summary, 2048), ExternalExecutionId: r.ExternalExecutionID}
	}
	return l.Engine.CompleteJob(ctx, id, res)
}

// Fail reports failure.
func (l *Local) Fail(ctx context.Context, id string, f *Failure) error {
	return l.Engine.CompleteJob(ctx, id, engine.JobResult{Failure: &cpapi.FailureDetails{Type: f.Type, Message: truncate(f.Message, 5000), ExternalExecutionId: f.ExternalExecutionID}})
}

// Log appends to the job's log.
func (l *Local) Log(ctx context.Context, id, nonce string, data []byte) error {
	return l.Engine.AppendJobLog(ctx, id, nonce, data)
}

// Wake returns the notification channel.
func (l *Local) Wake() <-chan struct{} { return l.Notify }

// truncate cuts s to at most n bytes (the model's limits), marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
