package engine

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// jobRecord is the JSON kept in store.Job.Data: the JobData a worker
// receives and, for a job handed out by [Engine.PollThirdPartyJobs], the
// client ID that poll issued.
type jobRecord struct {
	cpapi.JobData
	// ClientID is the clientId PollForThirdPartyJobs returned with the job
	// when it last handed it out; "" if the job is not dispatched to a
	// third-party worker.
	//
	// Slipway has no partner registration that would give a partner a
	// clientId and clientToken pair up front, so the pair is per dispatch:
	// every PollForThirdPartyJobs that hands a job out records a fresh
	// random ID (a UUID, the model's ClientId pattern) on the job and
	// returns it as the job's clientId, and the third-party calls for that
	// job must present it as their clientToken. A job offered again (its
	// dispatch lease ran out, or PollForJobs took it) gets a new one or
	// none, so a worker that lost the job cannot reach it any more.
	ClientID string `json:"slipwayClientId,omitempty"`
}

// JobView is a job as the job-worker API returns it.
type JobView struct {
	ID       string
	Nonce    string
	ClientID string // third-party dispatch only
	Data     *cpapi.JobData
}

func jobView(j *store.Job) (*JobView, error) {
	rec, err := decodeDetail[jobRecord](j.Data)
	if err != nil {
		return nil, err
	}
	return &JobView{ID: j.ID, Nonce: j.Nonce, ClientID: rec.ClientID, Data: &rec.JobData}, nil
}

// getJob reads a job for an operation of the job-worker API.
func getJob(ctx context.Context, q store.Queries, id string) (*store.Job, *jobRecord, error) {
	j, err := q.GetJob(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, jobNotFound(id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get job: %w", err)
	}
	rec, err := decodeDetail[jobRecord](j.Data)
	if err != nil {
		return nil, nil, err
	}
	return j, rec, nil
}

// checkClient verifies the clientToken of a third-party call (nil: a call
// of the Custom job API, which needs none). A job handed out to a
// third-party worker is reachable through the third-party calls only.
func checkClient(j *store.Job, rec *jobRecord, clientToken *string) error {
	if clientToken == nil {
		return nil
	}
	if rec.ClientID == "" || subtle.ConstantTimeCompare([]byte(rec.ClientID), []byte(*clientToken)) != 1 {
		return awsproto.Errorf(cpapi.InvalidClientTokenException,
			"the clientToken does not match job %s; pass the clientId that the PollForThirdPartyJobs call that handed out the job returned with it", j.ID)
	}
	return nil
}

// PollJobs hands up to max queued jobs of an action type to the caller;
// each is Dispatched with a fresh nonce and goes back to the queue unless
// acknowledged within the dispatch lease. queryParam, when set, keeps only
// jobs whose configuration has those values. The caller is a worker
// without labels (see [Engine.PollWorkerJobs]).
func (e *Engine) PollJobs(ctx context.Context, t cpapi.ActionTypeId, max int, queryParam map[string]string) ([]*JobView, error) {
	return e.dispatch(ctx, t, max, queryParam, nil, false)
}

// PollWorkerJobs is PollJobs for a worker with labels: a CodeBuild job
// whose build project has WorkerLabels goes only to a worker that has all
// of them; other jobs go to any worker. A job no worker may take stays
// queued (its job timeout runs only once it is acknowledged).
func (e *Engine) PollWorkerJobs(ctx context.Context, t cpapi.ActionTypeId, max int, queryParam map[string]string, labels []string) ([]*JobView, error) {
	return e.dispatch(ctx, t, max, queryParam, labels, false)
}

// MissingLabels returns the labels of required that have lacks, in the
// order of required; none means a worker with labels have may run a job
// that requires them.
func MissingLabels(required, have []string) []string {
	var out []string
	for _, l := range required {
		if !slices.Contains(have, l) && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// routedByLabels reports whether jobs of type t may require worker
// labels: the CodeBuild actions, through their build project.
func routedByLabels(t store.ActionTypeKey) bool {
	return t.Owner == cpapi.ActionOwnerAws && t.Provider == "CodeBuild" &&
		(t.Category == cpapi.ActionCategoryBuild || t.Category == cpapi.ActionCategoryTest)
}

// labelRouter finds the worker labels the jobs of one dispatch require,
// reading each build project once.
type labelRouter struct {
	ctx      context.Context
	q        store.Queries
	projects map[string][]string
	err      error // the first read error; the dispatch fails with it
}

// required returns the labels job j requires of its worker.
func (r *labelRouter) required(j *store.Job) []string {
	if !routedByLabels(j.Type) {
		return nil
	}
	d, err := decodeDetail[cpapi.JobData](j.Data)
	if err != nil || d.ActionConfiguration == nil {
		return nil
	}
	name := d.ActionConfiguration.Configuration["ProjectName"]
	if labels, ok := r.projects[name]; ok {
		return labels
	}
	var labels []string
	rec, err := r.q.GetBuildProject(r.ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		if r.err == nil {
			r.err = fmt.Errorf("read build project %q: %w", name, err)
		}
	default:
		var p struct {
			WorkerLabels []string `json:"workerLabels"`
		}
		if err := json.Unmarshal(rec.Declaration, &p); err != nil && r.err == nil {
			r.err = fmt.Errorf("decode build project %q: %w", name, err)
		}
		labels = p.WorkerLabels
	}
	if r.projects == nil {
		r.projects = map[string][]string{}
	}
	r.projects[name] = labels
	return labels
}

// PollThirdPartyJobs is PollJobs for a third-party (partner) worker: each
// job handed out also gets a fresh client ID (see jobRecord), which the
// worker presents as the clientToken of the other third-party calls.
func (e *Engine) PollThirdPartyJobs(ctx context.Context, t cpapi.ActionTypeId, max int) ([]*JobView, error) {
	return e.dispatch(ctx, t, max, nil, nil, true)
}

func (e *Engine) dispatch(ctx context.Context, t cpapi.ActionTypeId, max int, queryParam map[string]string, labels []string, thirdParty bool) ([]*JobView, error) {
	now := e.clock()
	var out []*JobView
	err := e.store.InTx(ctx, func(q store.Queries) error {
		out = out[:0]
		router := &labelRouter{ctx: ctx, q: q}
		accept := func(j *store.Job) bool {
			if len(MissingLabels(router.required(j), labels)) > 0 {
				return false
			}
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
		if router.err != nil {
			return fmt.Errorf("dispatch jobs: worker labels: %w", router.err)
		}
		for _, j := range jobs {
			rec, err := decodeDetail[jobRecord](j.Data)
			if err != nil {
				return err
			}
			client := ""
			if thirdParty {
				client = newID()
			}
			if rec.ClientID != client {
				rec.ClientID = client
				j.Data = encodeDetail(rec)
				if err := q.UpdateJob(ctx, j); err != nil {
					return fmt.Errorf("update job: %w", err)
				}
			}
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
	return e.acknowledge(ctx, id, nonce, nil)
}

// AcknowledgeThirdPartyJob is AcknowledgeJob for a third-party worker,
// which also presents the job's client ID as clientToken.
func (e *Engine) AcknowledgeThirdPartyJob(ctx context.Context, id, nonce, clientToken string) (string, error) {
	return e.acknowledge(ctx, id, nonce, &clientToken)
}

func (e *Engine) acknowledge(ctx context.Context, id, nonce string, clientToken *string) (string, error) {
	var status string
	err := e.store.InTx(ctx, func(q store.Queries) error {
		j, rec, err := getJob(ctx, q, id)
		if err != nil {
			return err
		}
		if err := checkClient(j, rec, clientToken); err != nil {
			return err
		}
		if j.Nonce == "" || subtle.ConstantTimeCompare([]byte(j.Nonce), []byte(nonce)) != 1 {
			return awsproto.Errorf(cpapi.InvalidNonceException, "the nonce does not match job %s's current claim; the job was handed to another worker or offered again", id)
		}
		if j.Status == cpapi.JobStatusDispatched {
			now := e.clock()
			lease := e.cfg.jobTimeout(j.Type)
			if j.Type.Owner == cpapi.ActionOwnerAws {
				// Built-in action types are run by Slipway's workers, which
				// heartbeat: the heartbeat lease holds their jobs from the
				// start, so a worker that dies before its first heartbeat
				// loses the job as soon as one that dies later does.
				lease = min(lease, e.cfg.HeartbeatLease)
			}
			j.Status, j.LeaseUntil, j.Updated = cpapi.JobStatusInProgress, now.Add(lease), now
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
	v.Nonce, v.ClientID = "", ""
	return v, nil
}

// GetThirdPartyJob returns a job of a ThirdParty action type with its
// data and current nonce, to the holder of its client ID.
func (e *Engine) GetThirdPartyJob(ctx context.Context, id, clientToken string) (*JobView, error) {
	j, rec, err := getJob(ctx, e.store, id)
	if err != nil {
		return nil, err
	}
	if j.Type.Owner != cpapi.ActionOwnerThirdParty {
		return nil, awsproto.Errorf(cpapi.InvalidJobException, "job %s is a job of a %s action type, not a third-party job; read it with GetJobDetails", id, j.Type.Owner)
	}
	if err := checkClient(j, rec, &clientToken); err != nil {
		return nil, err
	}
	v, err := jobView(j)
	if err != nil {
		return nil, err
	}
	v.ClientID = ""
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
	return e.complete(ctx, id, res, nil)
}

// CompleteThirdPartyJob is CompleteJob for a third-party worker, which
// also presents the job's client ID as clientToken.
func (e *Engine) CompleteThirdPartyJob(ctx context.Context, id, clientToken string, res JobResult) error {
	return e.complete(ctx, id, res, &clientToken)
}

func (e *Engine) complete(ctx context.Context, id string, res JobResult, clientToken *string) error {
	var pipeline string
	err := e.store.InTx(ctx, func(q store.Queries) error {
		j, rec, err := getJob(ctx, q, id)
		if err != nil {
			return err
		}
		if err := checkClient(j, rec, clientToken); err != nil {
			return err
		}
		if clientToken == nil && rec.ClientID != "" {
			return awsproto.Errorf(cpapi.InvalidJobStateException, "job %s was handed out by PollForThirdPartyJobs; report its result with PutThirdPartyJobSuccessResult or PutThirdPartyJobFailureResult and its clientToken", id)
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
		jd := &rec.JobData // a continuation job starts without a client ID
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
	e.notifyQueued() // a continuation may have queued a job
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
