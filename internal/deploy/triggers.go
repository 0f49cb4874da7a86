package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// EventTrigger is the event-log detail-type of a deployment trigger
// notification (a deployment group's triggerConfigurations): the runner
// appends one per trigger and event in the transaction that makes the
// change, and the notifier (package notify) POSTs its message to the
// notification target its notificationArn (the triggerTargetArn) names.
const EventTrigger = "Slipway CodeDeploy Trigger Notification"

// TriggerEnvelope is a trigger event as stored: an EventBridge-style
// envelope whose detail carries the target and the notification JSON of
// the user guide (§8.4).
type TriggerEnvelope struct {
	Version    string        `json:"version"`
	ID         string        `json:"id"`
	DetailType string        `json:"detail-type"`
	Source     string        `json:"source"`
	Account    string        `json:"account"`
	Time       string        `json:"time"`
	Region     string        `json:"region"`
	Resources  []string      `json:"resources"`
	Detail     TriggerDetail `json:"detail"`
}

// TriggerDetail is the detail of a TriggerEnvelope.
type TriggerDetail struct {
	NotificationArn string          `json:"notificationArn"` // the triggerTargetArn
	TriggerName     string          `json:"triggerName"`
	EventType       string          `json:"eventType"` // DeploymentStart, InstanceSuccess, ...
	Message         json.RawMessage `json:"message"`
}

// DeploymentTriggerMessage is the deployment trigger JSON of §8.4.
type DeploymentTriggerMessage struct {
	Region              string                   `json:"region"`
	AccountID           string                   `json:"accountId"`
	EventTriggerName    string                   `json:"eventTriggerName"`
	ApplicationName     string                   `json:"applicationName"`
	DeploymentID        string                   `json:"deploymentId"`
	DeploymentGroupName string                   `json:"deploymentGroupName"`
	CreateTime          string                   `json:"createTime"`
	CompleteTime        string                   `json:"completeTime,omitempty"`
	DeploymentOverview  map[string]string        `json:"deploymentOverview"`
	Status              string                   `json:"status"`
	ErrorInformation    *TriggerErrorInformation `json:"errorInformation,omitempty"`
}

// TriggerErrorInformation is the errorInformation of a deployment trigger
// message (capitalised members, as in the guide).
type TriggerErrorInformation struct {
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

// InstanceTriggerMessage is the instance trigger JSON of §8.4.
type InstanceTriggerMessage struct {
	Region           string                  `json:"region"`
	AccountID        string                  `json:"accountId"`
	EventTriggerName string                  `json:"eventTriggerName"`
	DeploymentID     string                  `json:"deploymentId"`
	InstanceID       string                  `json:"instanceId"`
	LastUpdatedAt    string                  `json:"lastUpdatedAt"`
	InstanceStatus   string                  `json:"instanceStatus"`
	LifecycleEvents  []TriggerLifecycleEvent `json:"lifecycleEvents"`
}

// TriggerLifecycleEvent is one lifecycle event of an instance trigger
// message.
type TriggerLifecycleEvent struct {
	LifecycleEvent       string `json:"LifecycleEvent"`
	LifecycleEventStatus string `json:"LifecycleEventStatus"`
	StartTime            string `json:"StartTime,omitempty"`
	EndTime              string `json:"EndTime,omitempty"`
}

// epochString formats t as the trigger messages do: epoch seconds with
// milliseconds ("1446744188.595"); empty for the zero time.
func epochString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	ms := t.UnixMilli()
	return fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
}

func (r *Runner) region() string {
	if r.Region == "" {
		return "us-east-1"
	}
	return r.Region
}

// appendTrigger appends one trigger event per trigger of det that
// subscribes to eventType; msg builds the message for a trigger name.
func (r *Runner) appendTrigger(ctx context.Context, q store.Queries, d *store.Deployment, det *Detail, eventType string, now time.Time, msg func(name string) any) error {
	for _, t := range det.Triggers {
		if t.TriggerTargetArn == "" || !slices.Contains(t.TriggerEvents, eventType) {
			continue
		}
		body, err := json.Marshal(msg(t.TriggerName))
		if err != nil {
			return err
		}
		env := TriggerEnvelope{Version: "0", ID: randomString(16), DetailType: EventTrigger, Source: "aws.codedeploy",
			Account: r.AccountID, Time: now.UTC().Format("2006-01-02T15:04:05Z"), Region: r.region(),
			Resources: []string{fmt.Sprintf("arn:aws:codedeploy:%s:%s:deploymentgroup:%s/%s", r.region(), r.AccountID, d.Application, d.GroupName)},
			Detail:    TriggerDetail{NotificationArn: t.TriggerTargetArn, TriggerName: t.TriggerName, EventType: eventType, Message: body}}
		if err := q.AppendEvent(ctx, &store.Event{Time: now, Type: EventTrigger, Detail: encode(env)}); err != nil {
			return fmt.Errorf("append trigger event: %w", err)
		}
	}
	return nil
}

// deploymentTrigger appends the deployment trigger events of eventType.
func (r *Runner) deploymentTrigger(ctx context.Context, q store.Queries, d *store.Deployment, det *Detail, targets map[string]*targetRow, eventType string, now time.Time) error {
	if len(det.Triggers) == 0 {
		return nil
	}
	overview := map[string]string{}
	counts := map[string]int{}
	for _, tr := range targets {
		counts[tr.row.Status]++
	}
	for _, s := range []string{cdapi.InstanceStatusFailed, cdapi.InstanceStatusInProgress, cdapi.InstanceStatusPending,
		cdapi.InstanceStatusSkipped, cdapi.InstanceStatusSucceeded} {
		overview[s] = fmt.Sprint(counts[s])
	}
	return r.appendTrigger(ctx, q, d, det, eventType, now, func(name string) any {
		m := &DeploymentTriggerMessage{Region: r.region(), AccountID: r.AccountID, EventTriggerName: name,
			ApplicationName: d.Application, DeploymentID: d.ID, DeploymentGroupName: d.GroupName,
			CreateTime: epochString(d.Created), DeploymentOverview: overview, Status: d.Status}
		if !d.Active {
			m.CompleteTime = epochString(det.Completed)
		}
		if det.Error != nil {
			m.ErrorInformation = &TriggerErrorInformation{ErrorCode: det.Error.Code, ErrorMessage: det.Error.Message}
		}
		return m
	})
}

// instanceTrigger appends the instance trigger events of eventType.
func (r *Runner) instanceTrigger(ctx context.Context, q store.Queries, d *store.Deployment, det *Detail, tr *targetRow, eventType string, now time.Time) error {
	if len(det.Triggers) == 0 {
		return nil
	}
	return r.appendTrigger(ctx, q, d, det, eventType, now, func(name string) any {
		m := &InstanceTriggerMessage{Region: r.region(), AccountID: r.AccountID, EventTriggerName: name,
			DeploymentID: d.ID, InstanceID: tr.row.Instance, LastUpdatedAt: epochString(now), InstanceStatus: tr.row.Status,
			LifecycleEvents: []TriggerLifecycleEvent{}}
		for _, e := range tr.doc.Events {
			m.LifecycleEvents = append(m.LifecycleEvents, TriggerLifecycleEvent{LifecycleEvent: e.Name,
				LifecycleEventStatus: e.Status, StartTime: epochString(e.Start), EndTime: epochString(e.End)})
		}
		return m
	})
}

// triggerEventOf maps a finished deployment's status to its trigger event.
func triggerEventOf(status string) string {
	switch status {
	case cdapi.DeploymentStatusSucceeded:
		return cdapi.TriggerEventTypeDeploymentSuccess
	case cdapi.DeploymentStatusFailed:
		return cdapi.TriggerEventTypeDeploymentFailure
	case cdapi.DeploymentStatusStopped:
		return cdapi.TriggerEventTypeDeploymentStop
	}
	return ""
}
