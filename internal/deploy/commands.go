package deploy

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/hostcmd"
	"github.com/slipway-cd/slipway/internal/store"
)

// Host command statuses (the command model's DeploymentCommandStatus).
const (
	CommandPending    = "Pending"
	CommandInProgress = "InProgress"
	CommandSucceeded  = "Succeeded"
	CommandFailed     = "Failed"
)

// redeliverAfter is how long a handed-out command may go unacknowledged
// before a new poll of its host gets it again.
const redeliverAfter = 5 * time.Second

// NextCommand hands out the oldest Pending command of an instance, now
// InProgress with a fresh nonce; nil when there is none.
//
// A command handed out at least redeliverAfter ago and never
// acknowledged (PutHostCommandAcknowledgement clears its nonce, see
// [Runner.Acknowledged]) is handed out again first: the host is polling,
// so the answer that carried it never arrived (the server stopped, or
// the connection dropped, after the hand-out was committed). Without
// this, its lifecycle event would stay InProgress for good, since the
// host's polls keep its agent lease alive.
func (r *Runner) NextCommand(ctx context.Context, instance string) (*store.HostCommand, error) {
	var out *store.HostCommand
	err := r.store.InTx(ctx, func(q store.Queries) error {
		cs, err := q.ListHostCommands(ctx, store.HostCommandFilter{Instance: instance, Statuses: []string{CommandPending, CommandInProgress}})
		if err != nil {
			return err
		}
		now := r.now()
		var c *store.HostCommand
		for _, x := range cs {
			if x.Status == CommandInProgress && x.Nonce != 0 && now.Sub(x.Updated) >= redeliverAfter {
				r.logger.WarnContext(ctx, "handing out an unacknowledged host command again", "instance", instance, "command", x.ID, "deployment", x.DeploymentID)
				c = x
				break
			}
			if x.Status == CommandPending && c == nil {
				c = x
			}
		}
		if c == nil {
			return nil
		}
		var b [8]byte
		_, _ = rand.Read(b[:])
		c.Status, c.Nonce, c.Updated = CommandInProgress, max(int64(binary.BigEndian.Uint64(b[:])>>1), 1), now
		out = c
		return q.UpdateHostCommand(ctx, c)
	})
	return out, err
}

// Acknowledged records that the host works on a handed-out command: its
// nonce is cleared, so it is not handed out again. It returns the
// command's status.
func (r *Runner) Acknowledged(ctx context.Context, id string) (string, error) {
	var status string
	err := r.store.InTx(ctx, func(q store.Queries) error {
		c, err := q.GetHostCommand(ctx, id)
		if err != nil {
			return err
		}
		status = c.Status
		if c.Status != CommandInProgress || c.Nonce == 0 {
			return nil
		}
		c.Nonce, c.Updated = 0, r.now()
		return q.UpdateHostCommand(ctx, c)
	})
	return status, err
}

// ErrCommandDone reports a completion of a command that already ended
// otherwise (for example failed by the agent lease, or cancelled).
var ErrCommandDone = errors.New("deploy: host command already completed")

// Complete records a command's result: its lifecycle event ends
// Succeeded or Failed with the diagnostics, and the deployment is kicked.
// Completing a command again with the same status is a no-op.
func (r *Runner) Complete(ctx context.Context, id, status string, diag hostcmd.Diagnostics) error {
	var depID string
	err := r.store.InTx(ctx, func(q store.Queries) error {
		c, err := q.GetHostCommand(ctx, id)
		if err != nil {
			return err
		}
		depID = c.DeploymentID
		if c.Status == CommandSucceeded || c.Status == CommandFailed {
			if c.Status == status {
				return nil
			}
			return ErrCommandDone
		}
		now := r.now()
		c.Status, c.Updated = status, now
		if err := q.UpdateHostCommand(ctx, c); err != nil {
			return err
		}
		t, err := q.GetDeploymentTarget(ctx, c.DeploymentID, c.Instance)
		if err != nil {
			return err
		}
		doc, err := DecodeTarget(t)
		if err != nil {
			return err
		}
		e := doc.Event(c.Name)
		if e == nil || e.Status != cdapi.LifecycleEventStatusInProgress || e.CommandID != c.ID {
			return nil // the event ended otherwise
		}
		e.End = now
		e.Status = cdapi.LifecycleEventStatusSucceeded
		if status == CommandFailed {
			e.Status = cdapi.LifecycleEventStatusFailed
		}
		e.ErrorCode = hostcmd.LifecycleErrorCode(diag.ErrorCode)
		if status == CommandFailed && e.ErrorCode == cdapi.LifecycleErrorCodeSuccess {
			e.ErrorCode = cdapi.LifecycleErrorCodeUnknownError
		}
		e.ScriptName, e.Message = diag.ScriptName, diag.Message
		e.LogTail = diag.Log
		if e.LogTail == "" {
			e.LogTail = tail(e.Log, LogTailSize)
		}
		t.Detail, t.Updated = encode(doc), now
		return q.PutDeploymentTarget(ctx, t)
	})
	if err != nil {
		return err
	}
	r.Kick(depID)
	return nil
}

// AppendLog appends a chunk of hook output to the command's lifecycle
// event (the SLIPWAY_LOG stream), keeping the last MaxLog bytes.
func (r *Runner) AppendLog(ctx context.Context, id, chunk string) error {
	return r.store.InTx(ctx, func(q store.Queries) error {
		c, err := q.GetHostCommand(ctx, id)
		if err != nil {
			return err
		}
		t, err := q.GetDeploymentTarget(ctx, c.DeploymentID, c.Instance)
		if err != nil {
			return err
		}
		doc, err := DecodeTarget(t)
		if err != nil {
			return err
		}
		e := doc.Event(c.Name)
		if e == nil {
			return nil
		}
		e.Log = tail(e.Log+chunk, MaxLog)
		t.Detail, t.Updated = encode(doc), r.now()
		if err := q.PutDeploymentTarget(ctx, t); err != nil {
			return err
		}
		// The full output, chunk by chunk, for GetLifecycleEventLog; only
		// while the event runs, so that an ended event's log is complete.
		if e.Status != cdapi.LifecycleEventStatusInProgress || e.CommandID != c.ID {
			return nil
		}
		_, err = q.AppendActionLog(ctx, LifecycleLogKey(c.DeploymentID, c.Instance, c.Name), []byte(chunk))
		return err
	})
}

// LifecycleLogKey is the key under which the streamed output of one
// lifecycle event of one instance in one deployment is stored, chunk by
// chunk, in the store's action logs (which do not check their keys).
func LifecycleLogKey(deploymentID, instance, event string) string {
	return "codedeploy:" + deploymentID + "/" + instance + "/" + event
}

// LifecycleLog is a read of a lifecycle event's streamed output.
type LifecycleLog struct {
	Chunks []store.LogChunk
	// NextSeq is the sequence number to read after next time.
	NextSeq int64
	// Complete reports that the event has ended and this read reached
	// the end of its output.
	Complete bool
}

// ReadLifecycleLog reads the streamed output of a lifecycle event after
// a sequence number, at most limit chunks (all when limit <= 0). The
// error wraps store.ErrNotFound when the deployment, the instance in it,
// or the event does not exist. The event's status is read before the
// chunks: output is stored only while its command runs, so an ended event
// has all its chunks stored.
func ReadLifecycleLog(ctx context.Context, q store.Queries, deploymentID, instance, event string, afterSeq int64, limit int) (*LifecycleLog, error) {
	d, err := q.GetDeployment(ctx, deploymentID)
	if err != nil {
		return nil, fmt.Errorf("deployment %s: %w", deploymentID, err)
	}
	t, err := q.GetDeploymentTarget(ctx, deploymentID, instance)
	if err != nil {
		return nil, fmt.Errorf("instance %s of deployment %s: %w", instance, deploymentID, err)
	}
	doc, err := DecodeTarget(t)
	if err != nil {
		return nil, err
	}
	e := doc.Event(event)
	if e == nil {
		return nil, fmt.Errorf("lifecycle event %s of instance %s: %w", event, instance, store.ErrNotFound)
	}
	ended := !d.Active || (e.Status != cdapi.LifecycleEventStatusInProgress && e.Status != cdapi.LifecycleEventStatusPending)
	chunks, err := q.ReadActionLog(ctx, LifecycleLogKey(deploymentID, instance, event), afterSeq, limit)
	if err != nil {
		return nil, err
	}
	out := &LifecycleLog{Chunks: chunks, NextSeq: afterSeq}
	if n := len(chunks); n > 0 {
		out.NextSeq = chunks[n-1].Seq
	}
	out.Complete = ended && (limit <= 0 || len(chunks) < limit)
	return out, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
