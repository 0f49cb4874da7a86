package extensions

import (
	"context"
	"errors"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// errNoEngine fails the job operations of a Service without an Engine.
var errNoEngine = errors.New("extensions: no engine configured for the job operations")

// HeartbeatJob extends the claim on an acknowledged job (a remote
// worker's heartbeat); the engine's errors (JobNotFoundException,
// InvalidNonceException, InvalidJobStateException) pass through.
func (s *Service) HeartbeatJob(ctx context.Context, in *slipwayapi.HeartbeatJobInput) (*slipwayapi.HeartbeatJobOutput, error) {
	if s.Engine == nil {
		return nil, errNoEngine
	}
	if err := s.Engine.HeartbeatJob(ctx, in.JobID, in.Nonce); err != nil {
		return nil, err
	}
	return &slipwayapi.HeartbeatJobOutput{}, nil
}

// PutJobLog appends to the log of a job's action run (a remote worker's
// build output, readable with GetActionLog); the engine's errors pass
// through.
func (s *Service) PutJobLog(ctx context.Context, in *slipwayapi.PutJobLogInput) (*slipwayapi.PutJobLogOutput, error) {
	if s.Engine == nil {
		return nil, errNoEngine
	}
	if err := s.Engine.AppendJobLog(ctx, in.JobID, in.Nonce, in.Data); err != nil {
		return nil, err
	}
	return &slipwayapi.PutJobLogOutput{}, nil
}
