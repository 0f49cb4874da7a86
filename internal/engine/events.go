package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// Event detail-types, as EventBridge names CodePipeline's events.
const (
	EventPipeline = "CodePipeline Pipeline Execution State Change"
	EventStage    = "CodePipeline Stage Execution State Change"
	EventAction   = "CodePipeline Action Execution State Change"
	// EventApproval is Slipway's event for an approval that asks for a
	// notification; its detail is the approval message of the user guide.
	EventApproval = "Slipway Manual Approval Notification"
)

// Envelope is an event as stored and served: the EventBridge envelope.
type Envelope struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     any      `json:"detail"`
}

func (e *Engine) pipelineARN(name string) string {
	return fmt.Sprintf("arn:aws:codepipeline:%s:%s:%s", e.region, e.accountID, name)
}

// eventState maps a status to the state word of CodePipeline events.
func eventState(status string) string {
	switch status {
	case cpapi.PipelineExecutionStatusCancelled:
		return "CANCELED"
	case cpapi.PipelineExecutionStatusInProgress:
		return "STARTED"
	}
	return strings.ToUpper(status)
}

func (e *Engine) appendEvent(ctx context.Context, q store.Queries, typ, pipeline, execID string, detail any) error {
	now := e.clock()
	env := Envelope{Version: "0", ID: newID(), DetailType: typ, Source: "aws.codepipeline", Account: e.accountID,
		Time: now.Format("2006-01-02T15:04:05Z"), Region: e.region, Resources: []string{e.pipelineARN(pipeline)}, Detail: detail}
	if err := q.AppendEvent(ctx, &store.Event{Time: now, Type: typ, Pipeline: pipeline, ExecutionID: execID, Detail: encodeDetail(env)}); err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	return nil
}

func (e *Engine) pipelineEvent(ctx context.Context, q store.Queries, x *store.Execution, state string) error {
	detail := map[string]any{"pipeline": x.Pipeline, "execution-id": x.ID, "state": state, "version": x.Version}
	if d, err := decodeDetail[ExecDetail](x.Detail); err == nil && d.Trigger != nil {
		detail["execution-trigger"] = map[string]string{"trigger-type": d.Trigger.TriggerType, "trigger-detail": d.Trigger.TriggerDetail}
	}
	return e.appendEvent(ctx, q, EventPipeline, x.Pipeline, x.ID, detail)
}

func (r *run) stageEvent(s *store.StageRun, state string) error {
	return r.e.stageEvent(r.ctx, r.q, s, r.pipe.Version, state)
}

// stageEvent appends a stage event; version is the pipeline version the
// execution runs.
func (e *Engine) stageEvent(ctx context.Context, q store.Queries, s *store.StageRun, version int32, state string) error {
	return e.appendEvent(ctx, q, EventStage, s.Pipeline, s.ExecutionID, map[string]any{
		"pipeline": s.Pipeline, "execution-id": s.ExecutionID, "stage": s.Stage, "state": state, "version": version,
	})
}

func (e *Engine) actionEvent(ctx context.Context, q store.Queries, a *store.ActionRun, d *ActionDetail, state string) error {
	detail := map[string]any{
		"pipeline": a.Pipeline, "execution-id": a.ExecutionID, "stage": a.Stage, "action": a.Action,
		"action-execution-id": a.ID, "state": state, "region": d.Input.Region,
	}
	if t := d.Input.ActionTypeId; t != nil {
		detail["type"] = map[string]string{"owner": t.Owner, "category": t.Category, "provider": t.Provider, "version": t.Version}
	}
	x, err := q.GetExecution(ctx, a.ExecutionID)
	if err != nil {
		return fmt.Errorf("get execution: %w", err)
	}
	detail["version"] = x.Version // the pipeline version, as in the other events
	if d.Output.ExecutionResult != nil && d.Output.ExecutionResult.ErrorDetails != nil {
		detail["execution-result"] = map[string]string{
			"external-execution-summary": d.Output.ExecutionResult.ErrorDetails.Message,
			"error-code":                 d.Output.ExecutionResult.ErrorDetails.Code,
		}
	}
	return e.appendEvent(ctx, q, EventAction, a.Pipeline, a.ExecutionID, detail)
}

// ApprovalMessage is the notification CodePipeline sends when a manual
// approval starts (the user guide's JSON).
type ApprovalMessage struct {
	Region          string          `json:"region"`
	ConsoleLink     string          `json:"consoleLink"`
	Approval        ApprovalDetails `json:"approval"`
	NotificationArn string          `json:"-"`
}

// ApprovalDetails is the approval part of an ApprovalMessage.
type ApprovalDetails struct {
	PipelineName       string `json:"pipelineName"`
	StageName          string `json:"stageName"`
	ActionName         string `json:"actionName"`
	Token              string `json:"token"`
	Expires            string `json:"expires"`
	ExternalEntityLink string `json:"externalEntityLink"`
	CustomData         string `json:"customData"`
}

func (e *Engine) approvalEvent(ctx context.Context, q store.Queries, a *store.ActionRun, d *ActionDetail, decl *cpapi.PipelineDeclaration, config map[string]string) error {
	msg := map[string]any{
		"notificationArn": d.NotificationArn,
		"message": ApprovalMessage{
			Region:      e.region,
			ConsoleLink: e.cfg.ConsoleURL + "/console/pipelines/" + a.Pipeline,
			Approval: ApprovalDetails{
				PipelineName: a.Pipeline, StageName: a.Stage, ActionName: a.Action, Token: d.Token,
				Expires:            a.Deadline.UTC().Format("2006-01-02T15:04Z"),
				ExternalEntityLink: config["ExternalEntityLink"],
				CustomData:         config["CustomData"],
			},
		},
	}
	return e.appendEvent(ctx, q, EventApproval, a.Pipeline, a.ExecutionID, msg)
}
