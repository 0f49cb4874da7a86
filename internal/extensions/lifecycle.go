package extensions

import (
	"context"
	"errors"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/deploy"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// GetLifecycleEventLog reads the hook output an agent streamed for one
// lifecycle event of a deployment (PostHostCommandUpdate, format
// SLIPWAY_LOG) after a sequence number.
func (s *Service) GetLifecycleEventLog(ctx context.Context, in *slipwayapi.GetLifecycleEventLogInput) (*slipwayapi.GetLifecycleEventLogOutput, error) {
	limit := int(in.MaxChunks)
	if limit == 0 {
		limit = slipwayapi.DefaultMaxChunks
	}
	l, err := deploy.ReadLifecycleLog(ctx, s.Store, in.DeploymentID, in.InstanceID, in.LifecycleEventName, in.AfterSeq, limit)
	if errors.Is(err, store.ErrNotFound) {
		return nil, awsproto.Errorf(slipwayapi.ResourceNotFoundException,
			"no lifecycle event %q of instance %q in deployment %q (%v); ListDeploymentInstances and GetDeploymentInstance show them",
			in.LifecycleEventName, in.InstanceID, in.DeploymentID, err)
	}
	if err != nil {
		return nil, err
	}
	out := &slipwayapi.GetLifecycleEventLogOutput{Chunks: make([]slipwayapi.LogChunk, 0, len(l.Chunks)), NextSeq: l.NextSeq, Complete: l.Complete}
	for _, c := range l.Chunks {
		out.Chunks = append(out.Chunks, slipwayapi.LogChunk{Seq: c.Seq, Time: awsproto.NewTime(c.Time), Data: string(c.Data)})
	}
	return out, nil
}
