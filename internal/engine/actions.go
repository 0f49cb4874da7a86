package engine

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/pipeline"
	"github.com/slipway-cd/slipway/internal/store"
)

// Error codes recorded in an action's errorDetails.
const (
	codeJobFailed          = cpapi.FailureTypeJobFailed
	codeConfigurationError = cpapi.FailureTypeConfigurationError
)

func (r *run) actionDecl(stage, action string) *cpapi.ActionDeclaration {
	for i := range r.decl.Stages {
		if r.decl.Stages[i].Name != stage {
			continue
		}
		for j := range r.decl.Stages[i].Actions {
			if a := &r.decl.Stages[i].Actions[j]; a.Name == action {
				return a
			}
		}
	}
	return nil
}

// earlier returns the output variables by namespace and the artifacts that
// succeeded runs of an execution produced.
func (r *run) earlier(execID string) (map[string]map[string]string, map[string]cpapi.Artifact, error) {
	ns := map[string]map[string]string{}
	arts := map[string]cpapi.Artifact{}
	for key, a := range r.actions {
		if key[0] != execID || a.Status != actionSucceeded {
			continue
		}
		d, err := decodeDetail[ActionDetail](a.Detail)
		if err != nil {
			return nil, nil, err
		}
		if d.Input.Namespace != "" {
			ns[d.Input.Namespace] = d.Output.OutputVariables
			if ns[d.Input.Namespace] == nil {
				ns[d.Input.Namespace] = map[string]string{}
			}
		}
		rev := ""
		if d.Revision != nil {
			rev = d.Revision.RevisionId
		}
		for _, o := range d.Output.OutputArtifacts {
			if o.S3location != nil {
				arts[o.Name] = cpapi.Artifact{Name: o.Name, Revision: rev, Location: &cpapi.ArtifactLocation{Type: cpapi.ArtifactLocationTypeS3,
					S3Location: &cpapi.S3ArtifactLocation{BucketName: o.S3location.Bucket, ObjectKey: o.S3location.Key}}}
			}
		}
	}
	return ns, arts, nil
}

// mask returns config with the values of secret properties replaced by ****.
func mask(config map[string]string, t *cpapi.ActionType) map[string]string {
	if config == nil {
		return nil
	}
	out := maps.Clone(config)
	if t == nil {
		return out
	}
	for _, p := range t.ActionConfigurationProperties {
		if aws.ToBool(p.Secret) {
			if _, ok := out[p.Name]; ok {
				out[p.Name] = pipeline.SecretMask
			}
		}
	}
	return out
}

func isApproval(id *cpapi.ActionTypeId) bool {
	return id != nil && id.Category == cpapi.ActionCategoryApproval && id.Owner == cpapi.ActionOwnerAws && id.Provider == "Manual"
}

func randomSuffix() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 7)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// startAction creates an action run and, for anything but a manual
// approval, the job that a worker will claim.
func (r *run) startAction(c StartAction) error {
	x := r.execs[c.ExecutionID]
	decl := r.actionDecl(c.Stage, c.Action)
	cat, err := r.catalog()
	if err != nil {
		return err
	}
	at, _ := cat.Lookup(*decl.ActionTypeId)
	seq, err := r.q.NextSeq(r.ctx, "action")
	if err != nil {
		return fmt.Errorf("next action seq: %w", err)
	}
	a := &store.ActionRun{ID: newID(), Seq: seq, Pipeline: r.pipe.Name, ExecutionID: x.ID, Stage: c.Stage, Action: c.Action,
		StageAttempt: c.StageAttempt, Status: actionInProgress, Started: r.now, Updated: r.now}
	d := &ActionDetail{Input: cpapi.ActionExecutionInput{
		ActionTypeId: decl.ActionTypeId, Configuration: mask(decl.Configuration, at),
		RoleArn: decl.RoleArn, Region: decl.Region, Namespace: decl.Namespace,
	}}
	if d.Input.Region == "" {
		d.Input.Region = r.e.region
	}
	fail := func(code, msg string) error {
		a.Status = actionFailed
		d.Output.ExecutionResult = &cpapi.ActionExecutionResult{ErrorDetails: &cpapi.ErrorDetails{Code: code, Message: msg}}
		d.Summary = msg
		a.Detail = encodeDetail(d)
		if err := r.q.CreateActionRun(r.ctx, a); err != nil {
			return fmt.Errorf("create action run: %w", err)
		}
		r.actions[[3]string{x.ID, c.Stage, c.Action}] = a
		r.e.Kick(r.pipe.Name) // the planner saw it start; let it see the failure
		if err := r.e.actionEvent(r.ctx, r.q, a, d, "STARTED"); err != nil {
			return err
		}
		return r.e.actionEvent(r.ctx, r.q, a, d, "FAILED")
	}

	xd, err := decodeDetail[ExecDetail](x.Detail)
	if err != nil {
		return err
	}
	ns, produced, err := r.earlier(x.ID)
	if err != nil {
		return err
	}
	vars := Vars{ExecutionID: x.ID, Pipeline: map[string]string{}, Namespaces: ns}
	for _, v := range xd.Variables {
		vars.Pipeline[v.Name] = v.ResolvedValue
	}
	resolved, err := ResolveVariables(decl.Configuration, vars)
	if err != nil {
		return fail(codeConfigurationError, err.Error())
	}
	d.Input.ResolvedConfiguration = mask(resolved, at)
	inputs, err := InputArtifacts(decl.InputArtifacts, produced)
	if err != nil {
		return fail(codeConfigurationError, err.Error())
	}
	bucket, key := storeBucket(r.decl, d.Input.Region)
	var outputs []cpapi.Artifact
	for _, o := range decl.OutputArtifacts {
		outputs = append(outputs, cpapi.Artifact{Name: o.Name, Location: &cpapi.ArtifactLocation{Type: cpapi.ArtifactLocationTypeS3,
			S3Location: ArtifactLocation(bucket, r.pipe.Name, o.Name, randomSuffix())}})
	}
	for _, in := range inputs {
		d.Input.InputArtifacts = append(d.Input.InputArtifacts, artifactDetail(in))
	}
	if at != nil && at.Settings != nil {
		d.EntityURL = fillTemplate(at.Settings.EntityUrlTemplate, resolved, "")
	}

	if isApproval(decl.ActionTypeId) {
		d.Token = newID()
		timeout := r.e.cfg.ApprovalTimeout
		if m := aws.ToInt32(decl.TimeoutInMinutes); m > 0 {
			timeout = time.Duration(m) * time.Minute
		}
		a.Deadline = r.now.Add(timeout)
		d.NotificationArn = resolved["NotificationArn"]
		d.EntityURL = resolved["ExternalEntityLink"]
	} else {
		jobConfig, err := withCommands(withRevision(resolved, decl, xd.SourceRevisions), decl, vars)
		if err != nil {
			return fail(codeConfigurationError, err.Error())
		}
		job := &store.Job{ID: newID(), ActionRunID: a.ID, Pipeline: r.pipe.Name, Status: cpapi.JobStatusQueued,
			Type:    store.ActionTypeKey{Category: decl.ActionTypeId.Category, Owner: decl.ActionTypeId.Owner, Provider: decl.ActionTypeId.Provider, Version: decl.ActionTypeId.Version},
			Created: r.now, Updated: r.now}
		job.Data = encodeDetail(cpapi.JobData{
			ActionTypeId:        decl.ActionTypeId,
			ActionConfiguration: &cpapi.ActionConfiguration{Configuration: jobConfig},
			PipelineContext: &cpapi.PipelineContext{
				PipelineName: r.pipe.Name, PipelineArn: r.e.pipelineARN(r.pipe.Name), PipelineExecutionId: x.ID,
				Stage:  &cpapi.StageContext{Name: c.Stage},
				Action: &cpapi.ActionContext{Name: c.Action, ActionExecutionId: a.ID},
			},
			InputArtifacts:  inputs,
			OutputArtifacts: outputs,
			EncryptionKey:   key,
		})
		if err := r.q.CreateJob(r.ctx, job); err != nil {
			return fmt.Errorf("create job: %w", err)
		}
		r.queued = true
		d.JobID = job.ID
	}
	for _, o := range outputs {
		d.Output.OutputArtifacts = append(d.Output.OutputArtifacts, artifactDetail(o))
	}
	a.Detail = encodeDetail(d)
	if err := r.q.CreateActionRun(r.ctx, a); err != nil {
		return fmt.Errorf("create action run: %w", err)
	}
	r.actions[[3]string{x.ID, c.Stage, c.Action}] = a
	if err := r.e.actionEvent(r.ctx, r.q, a, d, "STARTED"); err != nil {
		return err
	}
	if d.Token != "" && d.NotificationArn != "" {
		return r.e.approvalEvent(r.ctx, r.q, a, d, r.decl, resolved)
	}
	return nil
}

func artifactDetail(a cpapi.Artifact) cpapi.ArtifactDetail {
	out := cpapi.ArtifactDetail{Name: a.Name}
	if a.Location != nil && a.Location.S3Location != nil {
		out.S3location = &cpapi.S3Location{Bucket: a.Location.S3Location.BucketName, Key: a.Location.S3Location.ObjectKey}
	}
	return out
}

// endActionRun finishes an in-progress action run with status and, for a
// failure, errorDetails; its open job (if any) ends too.
func (e *Engine) endActionRun(ctx context.Context, q store.Queries, now time.Time, a *store.ActionRun, status, code, message string) error {
	d, err := decodeDetail[ActionDetail](a.Detail)
	if err != nil {
		return err
	}
	if status != actionSucceeded && message != "" {
		if d.Output.ExecutionResult == nil {
			d.Output.ExecutionResult = &cpapi.ActionExecutionResult{}
		}
		d.Output.ExecutionResult.ErrorDetails = &cpapi.ErrorDetails{Code: code, Message: message}
		d.Summary = message
	}
	a.Status, a.Updated, a.Deadline = status, now, time.Time{}
	a.Detail = encodeDetail(d)
	if err := q.UpdateActionRun(ctx, a); err != nil {
		return fmt.Errorf("update action run: %w", err)
	}
	if d.JobID != "" {
		j, err := q.GetJob(ctx, d.JobID)
		if err != nil {
			return fmt.Errorf("get job: %w", err)
		}
		if j.Status == cpapi.JobStatusQueued || j.Status == cpapi.JobStatusDispatched || j.Status == cpapi.JobStatusInProgress {
			j.Status, j.Updated, j.LeaseUntil = cpapi.JobStatusFailed, now, time.Time{}
			if err := q.UpdateJob(ctx, j); err != nil {
				return fmt.Errorf("update job: %w", err)
			}
		}
	}
	return e.actionEvent(ctx, q, a, d, eventState(status))
}

// RevisionKey is the configuration key under which a source action's job
// carries the revision the execution must use (a commit ID, an object
// version), when the execution was started for a given revision (a push,
// or StartPipelineExecution's sourceRevisions). Built-in source executors
// read it; without it they take the latest revision.
const RevisionKey = "SlipwaySourceRevision"

// withRevision adds the pinned revision of a source action to its job's
// configuration.
func withRevision(config map[string]string, decl *cpapi.ActionDeclaration, overrides []cpapi.SourceRevisionOverride) map[string]string {
	if decl.ActionTypeId == nil || decl.ActionTypeId.Category != cpapi.ActionCategorySource {
		return config
	}
	for _, o := range overrides {
		if o.ActionName == decl.Name && o.RevisionValue != "" {
			out := maps.Clone(config)
			if out == nil {
				out = map[string]string{}
			}
			out[RevisionKey] = o.RevisionValue
			return out
		}
	}
	return config
}
