package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/slipway-cd/slipway/internal/cdcmdapi"
	"github.com/slipway-cd/slipway/internal/deploy"
	"github.com/slipway-cd/slipway/internal/hostcmd"
	"github.com/slipway-cd/slipway/internal/notify"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// triggerMsg holds the members of both §8.4 trigger messages.
type triggerMsg struct {
	Region              string            `json:"region"`
	AccountID           string            `json:"accountId"`
	EventTriggerName    string            `json:"eventTriggerName"`
	ApplicationName     string            `json:"applicationName"`
	DeploymentID        string            `json:"deploymentId"`
	DeploymentGroupName string            `json:"deploymentGroupName"`
	CreateTime          string            `json:"createTime"`
	CompleteTime        string            `json:"completeTime"`
	DeploymentOverview  map[string]string `json:"deploymentOverview"`
	Status              string            `json:"status"`
	ErrorInformation    *struct {
		ErrorCode    string `json:"ErrorCode"`
		ErrorMessage string `json:"ErrorMessage"`
	} `json:"errorInformation"`
	InstanceID      string `json:"instanceId"`
	LastUpdatedAt   string `json:"lastUpdatedAt"`
	InstanceStatus  string `json:"instanceStatus"`
	LifecycleEvents []struct {
		LifecycleEvent       string `json:"LifecycleEvent"`
		LifecycleEventStatus string `json:"LifecycleEventStatus"`
		StartTime            string `json:"StartTime"`
		EndTime              string `json:"EndTime"`
	} `json:"lifecycleEvents"`
}

// collect reads deliveries until pred holds for the collected ones.
func collect(t *testing.T, got <-chan delivery, pred func([]triggerMsg) bool) []triggerMsg {
	t.Helper()
	var msgs []triggerMsg
	timeout := time.After(20 * time.Second)
	for !pred(msgs) {
		select {
		case d := <-got:
			if d.method != "POST" || d.header.Get("Content-Type") != "application/json" || d.header.Get(notify.EventIDHeader) == "" {
				t.Fatalf("delivery %s %v", d.method, d.header)
			}
			var m triggerMsg
			if err := json.Unmarshal(d.body, &m); err != nil {
				t.Fatalf("delivery body %s: %v", d.body, err)
			}
			msgs = append(msgs, m)
		case <-timeout:
			t.Fatalf("trigger deliveries: got %+v", msgs)
		}
	}
	return msgs
}

func count(msgs []triggerMsg, pred func(triggerMsg) bool) int {
	n := 0
	for _, m := range msgs {
		if pred(m) {
			n++
		}
	}
	return n
}

func TestDeploymentTriggersAndLifecycleLog(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t)
	ctx := context.Background()
	ext := slipwayapi.New(e.url, "us-east-1", e.cd.Options().Credentials)
	ts, got := notifyListener(t)
	if _, err := ext.PutNotificationTarget(ctx, &slipwayapi.PutNotificationTargetInput{Name: "deploy-events", URL: ts.URL + "/hook"}); err != nil {
		t.Fatalf("PutNotificationTarget: %v", err)
	}
	mustDo[*codedeploy.UpdateDeploymentGroupOutput](t, "update group")(e.cd.UpdateDeploymentGroup(ctx, &codedeploy.UpdateDeploymentGroupInput{
		ApplicationName: aws.String("shop"), CurrentDeploymentGroupName: aws.String("web"),
		TriggerConfigurations: []cdtypes.TriggerConfig{
			{TriggerName: aws.String("web-events"), TriggerTargetArn: aws.String("arn:aws:sns:us-east-1:123456789012:deploy-events"),
				TriggerEvents: []cdtypes.TriggerEventType{cdtypes.TriggerEventTypeDeploymentStart, cdtypes.TriggerEventTypeDeploymentSuccess, cdtypes.TriggerEventTypeInstanceSuccess}},
			{TriggerName: aws.String("web-failed"), TriggerTargetArn: aws.String("arn:aws:sns:us-east-1:123456789012:deploy-events"),
				TriggerEvents: []cdtypes.TriggerEventType{cdtypes.TriggerEventTypeDeploymentFailure}},
		}}))

	// Deployment 1 succeeds; web-1's ApplicationStart streams its output
	// in chunks, read live with GetLifecycleEventLog.
	id := e.create(&codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), Revision: s3Rev("v1.zip")})
	w1 := e.agents["web-1"]
	chunks := []string{"starting app\n", "listening on :8080\n", "ready\n"}
	logRead := false
	deadline := time.Now().Add(30 * time.Second)
	for deploy.IsActive(string(e.get(id).Status)) {
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s did not finish", id)
		}
		for _, name := range []string{"web-1", "web-2"} {
			a := e.agents[name]
			cmd := a.poll()
			if cmd == nil {
				continue
			}
			if a != w1 || cmd.CommandName != "ApplicationStart" {
				a.run(cmd, never)
				continue
			}
			if err := a.call("PutHostCommandAcknowledgement", &cdcmdapi.PutHostCommandAcknowledgementInput{HostCommandIdentifier: cmd.HostCommandIdentifier,
				Diagnostics: &cdcmdapi.Envelope{Format: "JSON", Payload: `{"IsCommandNoop":false}`}}, nil); err != nil {
				t.Fatalf("ack: %v", err)
			}
			for _, c := range chunks {
				if err := a.call("PostHostCommandUpdate", &cdcmdapi.PostHostCommandUpdateInput{HostCommandIdentifier: cmd.HostCommandIdentifier,
					Diagnostics: &cdcmdapi.Envelope{Format: hostcmd.FormatLog, Payload: c}}, nil); err != nil {
					t.Fatalf("update: %v", err)
				}
			}
			in := &slipwayapi.GetLifecycleEventLogInput{DeploymentID: id, InstanceID: "web-1", LifecycleEventName: "ApplicationStart"}
			live, err := ext.GetLifecycleEventLog(ctx, in)
			if err != nil {
				t.Fatalf("GetLifecycleEventLog: %v", err)
			}
			var data []string
			for i, c := range live.Chunks {
				if c.Seq != int64(i+1) {
					t.Fatalf("chunk %d seq %d", i, c.Seq)
				}
				data = append(data, c.Data)
			}
			if !slices.Equal(data, chunks) || live.Complete || live.NextSeq != 3 {
				t.Fatalf("live log %+v", live)
			}
			in.AfterSeq = 2
			if rest, err := ext.GetLifecycleEventLog(ctx, in); err != nil || len(rest.Chunks) != 1 || rest.Chunks[0].Data != "ready\n" || rest.NextSeq != 3 {
				t.Fatalf("log after 2: %+v, %v", rest, err)
			}
			ed := hostcmd.Diagnostics{Message: "Succeeded: "}.Envelope()
			if err := a.call("PutHostCommandComplete", &cdcmdapi.PutHostCommandCompleteInput{HostCommandIdentifier: cmd.HostCommandIdentifier, CommandStatus: "Succeeded",
				Diagnostics: &cdcmdapi.Envelope{Format: ed.Format, Payload: ed.Payload}}, nil); err != nil {
				t.Fatalf("complete: %v", err)
			}
			in.AfterSeq = 3
			if end, err := ext.GetLifecycleEventLog(ctx, in); err != nil || len(end.Chunks) != 0 || !end.Complete || end.NextSeq != 3 {
				t.Fatalf("log at end: %+v, %v", end, err)
			}
			logRead = true
		}
	}
	if d := e.get(id); d.Status != cdtypes.DeploymentStatusSucceeded || !logRead {
		t.Fatalf("deployment 1 %s, log read %v", d.Status, logRead)
	}
	_, err := ext.GetLifecycleEventLog(ctx, &slipwayapi.GetLifecycleEventLogInput{DeploymentID: id, InstanceID: "web-1", LifecycleEventName: "NoSuchEvent"})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, "NoSuchEvent")

	msgs := collect(t, got, func(ms []triggerMsg) bool {
		return count(ms, func(m triggerMsg) bool { return m.Status == "Succeeded" && m.InstanceID == "" }) > 0 &&
			count(ms, func(m triggerMsg) bool { return m.InstanceStatus == "Succeeded" }) >= 2
	})
	var start, success *triggerMsg
	instances := map[string]bool{}
	for i := range msgs {
		m := &msgs[i]
		if m.Region != "us-east-1" || m.AccountID == "" || m.EventTriggerName != "web-events" || m.DeploymentID != id {
			t.Fatalf("trigger message %+v", m)
		}
		switch {
		case m.InstanceID != "":
			if m.InstanceStatus != "Succeeded" || len(m.LifecycleEvents) == 0 || m.LastUpdatedAt == "" {
				t.Fatalf("instance message %+v", m)
			}
			for _, le := range m.LifecycleEvents {
				if le.LifecycleEventStatus != "Succeeded" && le.LifecycleEventStatus != "Skipped" {
					t.Fatalf("instance message event %+v", le)
				}
				if le.LifecycleEventStatus == "Succeeded" && (le.StartTime == "" || le.EndTime == "" || !strings.Contains(le.StartTime, ".")) {
					t.Fatalf("instance message event times %+v", le)
				}
			}
			instances[m.InstanceID] = true
		case m.Status == "InProgress":
			start = m
		case m.Status == "Succeeded":
			success = m
		default:
			t.Fatalf("unexpected message %+v", m)
		}
	}
	if start == nil || success == nil || !instances["web-1"] || !instances["web-2"] {
		t.Fatalf("messages %+v", msgs)
	}
	if start.ApplicationName != "shop" || start.DeploymentGroupName != "web" || start.CreateTime == "" || start.CompleteTime != "" ||
		start.DeploymentOverview["Pending"] != "2" {
		t.Fatalf("start message %+v", start)
	}
	if success.CompleteTime == "" || success.ErrorInformation != nil ||
		fmt.Sprint(success.DeploymentOverview) != "map[Failed:0 InProgress:0 Pending:0 Skipped:0 Succeeded:2]" {
		t.Fatalf("success message %+v", success)
	}

	// Deployment 2 fails on web-1: the DeploymentFailure trigger fires
	// (and DeploymentStart again for web-events).
	id2 := e.create(&codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), Revision: s3Rev("v2.zip")})
	_, d2 := e.drive(id2, func(host, cmd string) *hostcmd.Diagnostics {
		if host == "web-1" && cmd == "ApplicationStart" {
			return &hostcmd.Diagnostics{ErrorCode: hostcmd.CodeScriptFailed, ScriptName: "scripts/start.sh", Message: "Script failed with exit code 1"}
		}
		return nil
	})
	if d2.Status != cdtypes.DeploymentStatusFailed {
		t.Fatalf("deployment 2 %s", d2.Status)
	}
	msgs = collect(t, got, func(ms []triggerMsg) bool {
		return count(ms, func(m triggerMsg) bool { return m.EventTriggerName == "web-failed" }) > 0
	})
	for _, m := range msgs {
		if m.EventTriggerName != "web-failed" {
			continue
		}
		if m.DeploymentID != id2 || m.Status != "Failed" || m.ErrorInformation == nil || m.ErrorInformation.ErrorCode == "" ||
			m.CompleteTime == "" || m.DeploymentOverview["Failed"] == "0" {
			t.Fatalf("failure message %+v", m)
		}
	}
}
