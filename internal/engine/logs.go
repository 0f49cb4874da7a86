package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// MaxLogChunk is the most bytes one AppendJobLog call may carry; workers
// send less (worker.LogWriter flushes every 32 KiB).
const MaxLogChunk = 256 << 10

// AppendJobLog appends data to the log of the job's action run. Only the
// worker holding the job's claim may write: the nonce must be the job's
// current one and the job InProgress (acknowledged, not yet ended), so a
// worker whose job was stopped, timed out or handed to another worker
// cannot add to the log any more. An empty data is accepted and not
// stored.
func (e *Engine) AppendJobLog(ctx context.Context, jobID, nonce string, data []byte) error {
	if len(data) > MaxLogChunk {
		return awsproto.Errorf(awsproto.ValidationException, "a log chunk may hold at most %d bytes; this one has %d", MaxLogChunk, len(data))
	}
	return e.store.InTx(ctx, func(q store.Queries) error {
		j, err := q.GetJob(ctx, jobID)
		if errors.Is(err, store.ErrNotFound) {
			return jobNotFound(jobID)
		}
		if err != nil {
			return fmt.Errorf("get job: %w", err)
		}
		if j.Nonce == "" || j.Nonce != nonce {
			return awsproto.Errorf(cpapi.InvalidNonceException, "the nonce does not match job %s's current claim", jobID)
		}
		if j.Status != cpapi.JobStatusInProgress {
			return awsproto.Errorf(cpapi.InvalidJobStateException, "job %s is %s; only an acknowledged job's worker writes its log", jobID, j.Status)
		}
		if len(data) == 0 {
			return nil
		}
		if _, err := q.AppendActionLog(ctx, j.ActionRunID, data); err != nil {
			return fmt.Errorf("append job log: %w", err)
		}
		return nil
	})
}

// ActionLog is one read of an action run's log.
type ActionLog struct {
	// Chunks are the chunks after the requested sequence number, in order.
	Chunks []store.LogChunk
	// NextSeq is the sequence number to read after next time: the last
	// chunk's, or the requested one when there were none.
	NextSeq int64
	// Complete reports that the action has ended and this read reached
	// the end of its log: nothing will follow NextSeq.
	Complete bool
}

// ReadActionLog reads the log of an action run (an action execution ID)
// after a sequence number, at most limit chunks (all when limit <= 0). The
// error wraps store.ErrNotFound when no such action run exists.
func (e *Engine) ReadActionLog(ctx context.Context, actionRunID string, afterSeq int64, limit int) (*ActionLog, error) {
	return ReadActionLog(ctx, e.store, actionRunID, afterSeq, limit)
}

// ReadActionLog is [Engine.ReadActionLog] on q.
//
// The run's status is read before the chunks: a worker writes its last
// chunk before it reports the job's result, and a job that is no longer
// InProgress takes no more chunks, so once the run has ended every chunk
// is already stored, and Complete is never reported too early.
func ReadActionLog(ctx context.Context, q store.Queries, actionRunID string, afterSeq int64, limit int) (*ActionLog, error) {
	a, err := q.GetActionRun(ctx, actionRunID)
	if err != nil {
		return nil, err
	}
	ended := a.Status != actionInProgress
	chunks, err := q.ReadActionLog(ctx, actionRunID, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	out := &ActionLog{Chunks: chunks, NextSeq: afterSeq}
	if n := len(chunks); n > 0 {
		out.NextSeq = chunks[n-1].Seq
	}
	out.Complete = ended && (limit <= 0 || len(chunks) < limit)
	return out, nil
}
