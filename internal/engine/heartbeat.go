package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// HeartbeatJob extends the claim of the worker holding nonce on an
// acknowledged job to HeartbeatLease from now. It fails with
// InvalidJobStateException when the job is no longer in progress (its
// action was stopped, abandoned or timed out), which tells the worker to
// stop working on it.
func (e *Engine) HeartbeatJob(ctx context.Context, id, nonce string) error {
	return e.store.InTx(ctx, func(q store.Queries) error {
		j, err := q.GetJob(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return jobNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("get job: %w", err)
		}
		if j.Nonce != nonce {
			return awsproto.Errorf(cpapi.InvalidNonceException, "the nonce does not match job %s's current claim", id)
		}
		if j.Status != cpapi.JobStatusInProgress {
			return awsproto.Errorf(cpapi.InvalidJobStateException, "job %s is %s", id, j.Status)
		}
		a, err := q.GetActionRun(ctx, j.ActionRunID)
		if err != nil {
			return fmt.Errorf("get action run: %w", err)
		}
		if a.Status != actionInProgress {
			return awsproto.Errorf(cpapi.InvalidJobStateException, "the action of job %s is %s", id, a.Status)
		}
		now := e.clock()
		j.LeaseUntil, j.Updated = now.Add(e.cfg.HeartbeatLease), now
		return q.UpdateJob(ctx, j)
	})
}
