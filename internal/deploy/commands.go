package deploy

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"

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

// NextCommand hands out the oldest Pending command of an instance, now
// InProgress with a fresh nonce; nil when there is none.
func (r *Runner) NextCommand(ctx context.Context, instance string) (*store.HostCommand, error) {
	var out *store.HostCommand
	err := r.store.InTx(ctx, func(q store.Queries) error {
		cs, err := q.ListHostCommands(ctx, store.HostCommandFilter{Instance: instance, Statuses: []string{CommandPending}})
		if err != nil || len(cs) == 0 {
			return err
		}
		c := cs[0]
		var b [8]byte
		_, _ = rand.Read(b[:])
		c.Status, c.Nonce, c.Updated = CommandInProgress, int64(binary.BigEndian.Uint64(b[:])>>1), r.now()
		out = c
		return q.UpdateHostCommand(ctx, c)
	})
	return out, err
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
		return q.PutDeploymentTarget(ctx, t)
	})
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
