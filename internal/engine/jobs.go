package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// maxOutputVariablesSize bounds the combined size of an action's output
// variables (keys and values), as CodePipeline does.
const maxOutputVariablesSize = 122880

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func jobNotFound(id string) error {
	return awsproto.Errorf(cpapi.JobNotFoundException, "job %q does not exist", id)
}

// JobView is a job as the job-worker API returns it.
type JobView struct {
	ID    string
	Nonce string
	Data  *cpapi.JobData
}

func jobView(j *store.Job) (*JobView, error) {
	d, err := decodeDetail[cpapi.JobData](j.Data)
	if err != nil {
		return nil, err
	}
	return &JobView{ID: j.ID, Nonce: j.Nonce, Data: d}, nil
}

// PollJobs hands up to max queued jobs of an action type to the caller;
// each is Dispatched with a fresh nonce and goes back to the queue unless
// acknowledged within the dispatch lease. queryParam, when set, keeps only
// jobs whose configuration has those values.
func (e *Engine) PollJobs(ctx context.Context, t cpapi.ActionTypeId, max int, queryParam map[string]string) ([]*JobView, error) {
	now := e.clock()
	var out []*JobView
	err := e.store.InTx(ctx, func(q store.Queries) error {
		out = out[:0]
		accept := func(j *store.Job) bool {
			if len(queryParam) == 0 {
				return true
			}
			d, err := decodeDetail[cpapi.JobData](j.Data)
			if err != nil || d.ActionConfiguration == nil {
				return false
			}
			for k, v := range queryParam {
				if d.ActionConfiguration.Configuration[k] != v {
					return false
				}
			}
			return true
		}
		key := store.ActionTypeKey{Category: t.Category, Owner: t.Owner, Provider: t.Provider, Version: t.Version}
		jobs, err := q.DispatchJobs(ctx, key, max, now, now.Add(e.cfg.DispatchLease), accept, newNonce)
		if err != nil {
			return fmt.Errorf("dispatch jobs: %w", err)
		}
		for _, j := range jobs {
			v, err := jobView(j)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// AcknowledgeJob confirms that the caller, holding the nonce PollJobs gave
// it, works on the job; it returns the job's status.
func (e *Engine) AcknowledgeJob(ctx context.Context, id, nonce string) (string, error) {
	var status string
	err := e.store.InTx(ctx, func(q store.Queries) error {
		j, err := q.GetJob(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return jobNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("get job: %w", err)
		}
		if j.Nonce == "" || j.Nonce != nonce {
			return awsproto.Errorf(cpapi.InvalidNonceException, "the nonce does not match job %s's current claim; the job was handed to another worker or offered again", id)
		}
		if j.Status == cpapi.JobStatusDispatched {
			now := e.clock()
			j.Status, j.LeaseUntil, j.Updated = cpapi.JobStatusInProgress, now.Add(e.cfg.JobTimeout), now
			if err := q.UpdateJob(ctx, j); err != nil {
				return fmt.Errorf("update job: %w", err)
			}
		}
		status = j.Status
		return nil
	})
	return status, err
}

// GetJob returns a job with its data.
func (e *Engine) GetJob(ctx context.Context, id string) (*JobView, error) {
	j, err := e.store.GetJob(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, jobNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get job: %w", err)
	}
	v, err := jobView(j)
	if err != nil {
		return nil, err
	}
	v.Nonce = ""
	return v, nil
}

// JobResult is what a worker reports for a job.
type JobResult struct {
	Success           bool
	ContinuationToken string
	ExecutionDetails  *cpapi.ExecutionDetails
	CurrentRevision   *cpapi.CurrentRevision
	OutputVariables   map[string]string
	Failure           *cpapi.FailureDetails
}

// CompleteJob records a worker's result: success (possibly with a
// continuation token, which queues a new job for the same action) or failure.
func (e *Engine) CompleteJob(ctx context.Context, id string, res JobResult) error {
	var pipeline string
	err := e.store.InTx(ctx, func(q store.Queries) error {
		j, err := q.GetJob(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return jobNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("get job: %w", err)
		}
		if j.Status != cpapi.JobStatusInProgress {
			return awsproto.Errorf(cpapi.InvalidJobStateException, "job %s is %s; a result can only be reported for an acknowledged (InProgress) job", id, j.Status)
		}
		a, err := q.GetActionRun(ctx, j.ActionRunID)
		if err != nil {
			return fmt.Errorf("get action run: %w", err)
		}
		if a.Status != actionInProgress {
			return awsproto.Errorf(cpapi.InvalidJobStateException, "the action of job %s is already %s", id, a.Status)
		}
		size := 0
		for k, v := range res.OutputVariables {
			size += len(k) + len(v)
		}
		if size > maxOutputVariablesSize {
			return awsproto.Errorf(cpapi.OutputVariablesSizeExceededException, "output variables take %d characters; at most %d are allowed", size, maxOutputVariablesSize)
		}
		now := e.clock()
		pipeline = j.Pipeline
		d, err := decodeDetail[ActionDetail](a.Detail)
		if err != nil {
			return err
		}
		jd, err := decodeDetail[cpapi.JobData](j.Data)
		if err != nil {
			return err
		}
		e.recordDetails(d, jd, res, q, ctx)
		j.Status, j.LeaseUntil, j.Updated = cpapi.JobStatusSucceeded, time.Time{}, now
		if !res.Success {
			j.Status = cpapi.JobStatusFailed
		}
		if err := q.UpdateJob(ctx, j); err != nil {
			return fmt.Errorf("update job: %w", err)
		}
		if res.Success && res.ContinuationToken != "" {
			jd.ContinuationToken = res.ContinuationToken
			next := &store.Job{ID: newID(), ActionRunID: a.ID, Pipeline: j.Pipeline, Type: j.Type, Status: cpapi.JobStatusQueued,
				Data: encodeDetail(jd), Created: now, Updated: now}
			if err := q.CreateJob(ctx, next); err != nil {
				return fmt.Errorf("create continuation job: %w", err)
			}
			d.JobID = next.ID
			a.Detail, a.Updated = encodeDetail(d), now
			if err := q.UpdateActionRun(ctx, a); err != nil {
				return fmt.Errorf("update action run: %w", err)
			}
			return nil
		}
		d.JobID = "" // the job is done; endActionRun need not touch it
		a.Detail = encodeDetail(d)
		if res.Success {
			return e.endActionRun(ctx, q, now, a, actionSucceeded, "", "")
		}
		msg := res.Failure.Message
		if msg == "" {
			msg = "the job worker reported a failure without a message"
		}
		return e.endActionRun(ctx, q, now, a, actionFailed, res.Failure.Type, msg)
	})
	if err != nil {
		return err
	}
	e.Kick(pipeline)
	return nil
}

// recordDetails copies a job result's details into the action's detail.
func (e *Engine) recordDetails(d *ActionDetail, jd *cpapi.JobData, res JobResult, q store.Queries, ctx context.Context) {
	if d.Output.ExecutionResult == nil {
		d.Output.ExecutionResult = &cpapi.ActionExecutionResult{}
	}
	er := d.Output.ExecutionResult
	extID := ""
	if det := res.ExecutionDetails; det != nil {
		extID = det.ExternalExecutionId
		d.Summary = det.Summary
		d.PercentComplete = det.PercentComplete
		er.ExternalExecutionSummary = det.Summary
	}
	if f := res.Failure; f != nil && f.ExternalExecutionId != "" {
		extID = f.ExternalExecutionId
	}
	if extID != "" {
		er.ExternalExecutionId = extID
		if t := e.actionType(ctx, q, jd.ActionTypeId); t != nil && t.Settings != nil {
			var cfg map[string]string
			if jd.ActionConfiguration != nil {
				cfg = jd.ActionConfiguration.Configuration
			}
			er.ExternalExecutionUrl = fillTemplate(t.Settings.ExecutionUrlTemplate, cfg, extID)
		}
	}
	if res.OutputVariables != nil {
		d.Output.OutputVariables = res.OutputVariables
	}
	if cr := res.CurrentRevision; cr != nil {
		d.Revision = &cpapi.ActionRevision{RevisionId: cr.Revision, RevisionChangeId: cr.ChangeIdentifier, Created: cr.Created}
		if d.Revision.Created == nil {
			d.Revision.Created = awsproto.NewTime(e.clock())
		}
	}
}

// actionType looks up an action type's declaration (nil if unknown).
func (e *Engine) actionType(ctx context.Context, q store.Queries, id *cpapi.ActionTypeId) *cpapi.ActionType {
	if id == nil {
		return nil
	}
	r := &run{ctx: ctx, q: q}
	cat, err := r.catalog()
	if err != nil {
		return nil
	}
	t, _ := cat.Lookup(*id)
	return t
}

var _ = aws.ToInt32
