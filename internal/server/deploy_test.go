package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/cdcmdapi"
	"github.com/slipway-cd/slipway/internal/deploy"
	"github.com/slipway-cd/slipway/internal/hostcmd"
	"github.com/slipway-cd/slipway/internal/server"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// agent plays a host's CodeDeploy agent over the real protocol: JSON 1.1
// requests signed for codedeploy-commands with the instance's own key.
type agent struct {
	t      *testing.T
	url    string
	name   string
	hostID string
	creds  aws.CredentialsProvider
	signer *v4.Signer
}

type protoError struct{ Code, Message string }

func (e *protoError) Error() string { return e.Code + ": " + e.Message }

func (a *agent) call(op string, in, out any) error {
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, a.url+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", cdcmdapi.TargetPrefix+"."+op)
	creds, _ := a.creds.Retrieve(context.Background())
	sum := sha256.Sum256(body)
	if err := a.signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "codedeploy-commands", "us-east-1", time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		return &protoError{e.Type, e.Message}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (a *agent) poll() *cdcmdapi.HostCommandInstance {
	a.t.Helper()
	var out cdcmdapi.PollHostCommandOutput
	if err := a.call("PollHostCommand", &cdcmdapi.PollHostCommandInput{HostIdentifier: a.hostID}, &out); err != nil {
		a.t.Fatalf("%s PollHostCommand: %v", a.name, err)
	}
	return out.HostCommand
}

// run processes one command as the stock agent does: spec, ack, complete
// with the result fail gives (nil: success).
func (a *agent) run(cmd *cdcmdapi.HostCommandInstance, fail func(cmd string) *hostcmd.Diagnostics) *hostcmd.Spec {
	a.t.Helper()
	if cmd.HostIdentifier != a.hostID || cmd.CommandName == "" {
		a.t.Fatalf("command %+v for %s", cmd, a.hostID)
	}
	var spec cdcmdapi.GetDeploymentSpecificationOutput
	if err := a.call("GetDeploymentSpecification", &cdcmdapi.GetDeploymentSpecificationInput{DeploymentExecutionId: cmd.DeploymentExecutionId, HostIdentifier: a.hostID}, &spec); err != nil {
		a.t.Fatalf("GetDeploymentSpecification: %v", err)
	}
	if spec.DeploymentSystem != "CodeDeploy" || spec.DeploymentSpecification == nil || spec.DeploymentSpecification.GenericEnvelope == nil {
		a.t.Fatalf("spec %+v", spec)
	}
	env := spec.DeploymentSpecification.GenericEnvelope
	s, err := hostcmd.Verify(hostcmd.Envelope{Format: env.Format, Payload: env.Payload})
	if err != nil {
		a.t.Fatalf("verify spec: %v", err)
	}
	var ack cdcmdapi.PutHostCommandAcknowledgementOutput
	if err := a.call("PutHostCommandAcknowledgement", &cdcmdapi.PutHostCommandAcknowledgementInput{HostCommandIdentifier: cmd.HostCommandIdentifier,
		Diagnostics: &cdcmdapi.Envelope{Format: "JSON", Payload: `{"IsCommandNoop":false}`}}, &ack); err != nil {
		a.t.Fatalf("ack: %v", err)
	}
	if ack.CommandStatus != "InProgress" {
		a.t.Fatalf("ack status %q", ack.CommandStatus)
	}
	if err := a.call("PostHostCommandUpdate", &cdcmdapi.PostHostCommandUpdateInput{HostCommandIdentifier: cmd.HostCommandIdentifier,
		Diagnostics: &cdcmdapi.Envelope{Format: hostcmd.FormatLog, Payload: "running " + cmd.CommandName + "\n"}}, nil); err != nil {
		a.t.Fatalf("update: %v", err)
	}
	status, diag := "Succeeded", hostcmd.Diagnostics{Message: "Succeeded: "}
	if d := fail(cmd.CommandName); d != nil {
		status, diag = "Failed", *d
	}
	e := diag.Envelope()
	if err := a.call("PutHostCommandComplete", &cdcmdapi.PutHostCommandCompleteInput{HostCommandIdentifier: cmd.HostCommandIdentifier, CommandStatus: status,
		Diagnostics: &cdcmdapi.Envelope{Format: e.Format, Payload: e.Payload}}, nil); err != nil {
		a.t.Fatalf("complete: %v", err)
	}
	return s
}

func never(string) *hostcmd.Diagnostics { return nil }

type deployEnv struct {
	t      *testing.T
	cd     *codedeploy.Client
	agents map[string]*agent
	url    string
}

func newDeployEnv(t *testing.T) *deployEnv {
	t.Helper()
	b := start(t, "", func(c *server.Config) {
		c.Deploy = deploy.Config{AgentLease: time.Second, Sweep: 100 * time.Millisecond, PollWait: 200 * time.Millisecond}
	})
	id, secret, _, err := auth.ReadCredentialsFile(b.dir+"/credentials", "default")
	if err != nil {
		t.Fatal(err)
	}
	cd := codedeploy.New(codedeploy.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.url),
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), RetryMaxAttempts: 1})
	ext := slipwayapi.New(b.url, "us-east-1", credentials.NewStaticCredentialsProvider(id, secret, ""))
	ctx := context.Background()
	env := &deployEnv{t: t, cd: cd, agents: map[string]*agent{}, url: b.url}
	for _, in := range []struct{ name, role string }{{"web-1", "web"}, {"web-2", "web"}, {"db-1", "db"}} {
		creds, err := ext.CreateInstanceCredentials(ctx, &slipwayapi.CreateInstanceCredentialsInput{InstanceName: in.name})
		if err != nil {
			t.Fatalf("CreateInstanceCredentials: %v", err)
		}
		mustDo[*codedeploy.RegisterOnPremisesInstanceOutput](t, "register")(cd.RegisterOnPremisesInstance(ctx, &codedeploy.RegisterOnPremisesInstanceInput{
			InstanceName: aws.String(in.name), IamUserArn: aws.String(creds.UserArn)}))
		mustDo[*codedeploy.AddTagsToOnPremisesInstancesOutput](t, "tag")(cd.AddTagsToOnPremisesInstances(ctx, &codedeploy.AddTagsToOnPremisesInstancesInput{
			InstanceNames: []string{in.name}, Tags: []cdtypes.Tag{{Key: aws.String("role"), Value: aws.String(in.role)}}}))
		env.agents[in.name] = &agent{t: t, url: b.url, name: in.name, hostID: creds.UserArn,
			creds: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""), signer: v4.NewSigner()}
	}
	mustDo[*codedeploy.CreateApplicationOutput](t, "app")(cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("shop")}))
	mustDo[*codedeploy.CreateDeploymentGroupOutput](t, "group")(cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), ServiceRoleArn: aws.String(deployRole),
		OnPremisesInstanceTagFilters: []cdtypes.TagFilter{kvFilter("role", "web")}}))
	for _, key := range []string{"v1.zip", "v2.zip"} {
		mustDo[*codedeploy.RegisterApplicationRevisionOutput](t, "revision")(cd.RegisterApplicationRevision(ctx, &codedeploy.RegisterApplicationRevisionInput{
			ApplicationName: aws.String("shop"), Revision: s3Rev(key)}))
	}
	return env
}

func s3Rev(key string) *cdtypes.RevisionLocation {
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
		S3Location: &cdtypes.S3Location{Bucket: aws.String("bundles"), Key: aws.String(key), BundleType: cdtypes.BundleTypeZip}}
}

// drive plays the web agents until the deployment ends; it returns the
// commands each instance ran, in order.
func (e *deployEnv) drive(id string, fail func(host, cmd string) *hostcmd.Diagnostics) (map[string][]string, *cdtypes.DeploymentInfo) {
	e.t.Helper()
	ran := map[string][]string{}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, name := range []string{"web-1", "web-2"} {
			a := e.agents[name]
			if cmd := a.poll(); cmd != nil {
				spec := a.run(cmd, func(c string) *hostcmd.Diagnostics { return fail(name, c) })
				if spec.DeploymentId != id && !strings.HasPrefix(spec.DeploymentId, "d-") {
					e.t.Fatalf("spec deployment %s", spec.DeploymentId)
				}
				ran[name] = append(ran[name], cmd.CommandName)
			}
		}
		d := e.get(id)
		if !deploy.IsActive(string(d.Status)) {
			return ran, d
		}
	}
	e.t.Fatalf("deployment %s did not finish", id)
	return nil, nil
}

func (e *deployEnv) get(id string) *cdtypes.DeploymentInfo {
	e.t.Helper()
	out, err := e.cd.GetDeployment(context.Background(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	if err != nil {
		e.t.Fatalf("GetDeployment: %v", err)
	}
	return out.DeploymentInfo
}

func (e *deployEnv) create(in *codedeploy.CreateDeploymentInput) string {
	e.t.Helper()
	out, err := e.cd.CreateDeployment(context.Background(), in)
	if err != nil {
		e.t.Fatalf("CreateDeployment: %v", err)
	}
	return *out.DeploymentId
}

func TestDeploymentEndToEnd(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t)
	ctx := context.Background()

	id := e.create(&codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), Revision: s3Rev("v1.zip")})
	if len(id) != 11 || !strings.HasPrefix(id, "d-") || strings.ToUpper(id[2:]) != id[2:] {
		t.Fatalf("deployment ID %q", id)
	}
	_, err := e.cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), Revision: s3Rev("v1.zip")})
	wantDeployError(t, err, "DeploymentLimitExceededException", fmt.Sprintf("The Deployment Group 'web' is already deploying deployment '%s'", id))

	// Host isolation: db-1 is not in the group and sees nothing; web-1's
	// key cannot poll as web-2, nor touch web-2's commands.
	if cmd := e.agents["db-1"].poll(); cmd != nil {
		t.Fatalf("db-1 got %+v", cmd)
	}
	w1, w2 := e.agents["web-1"], e.agents["web-2"]
	err = w1.call("PollHostCommand", &cdcmdapi.PollHostCommandInput{HostIdentifier: w2.hostID}, nil)
	if pe, ok := err.(*protoError); !ok || pe.Code != "ClientException" {
		t.Fatalf("web-1 polling as web-2: %v", err)
	}
	first := w1.poll()
	if first == nil {
		first = w2.poll()
	}
	if first == nil || first.CommandName != "DownloadBundle" {
		t.Fatalf("first command %+v", first)
	}
	other := e.agents["db-1"]
	err = other.call("PutHostCommandAcknowledgement", &cdcmdapi.PutHostCommandAcknowledgementInput{HostCommandIdentifier: first.HostCommandIdentifier}, nil)
	if pe, ok := err.(*protoError); !ok || pe.Code != "ClientException" {
		t.Fatalf("db-1 acknowledging another host's command: %v", err)
	}
	owner := w1
	if first.HostIdentifier == w2.hostID {
		owner = w2
	}
	spec := owner.run(first, never)
	if spec.DeploymentId != id || spec.ApplicationName != "shop" || spec.DeploymentGroupName != "web" ||
		spec.Revision.S3Revision == nil || spec.Revision.S3Revision.Key != "v1.zip" || spec.SlipwayBundleUrl != "/deploy/bundles/"+id {
		t.Fatalf("spec %+v", spec)
	}

	ran, d := e.drive(id, func(string, string) *hostcmd.Diagnostics { return nil })
	ran[owner.name] = append([]string{"DownloadBundle"}, ran[owner.name]...)
	want := []string{"DownloadBundle", "BeforeInstall", "Install", "AfterInstall", "ApplicationStart", "ValidateService"}
	for _, n := range []string{"web-1", "web-2"} {
		if !slices.Equal(ran[n], want) {
			t.Errorf("%s ran %v, want %v", n, ran[n], want)
		}
	}
	if d.Status != cdtypes.DeploymentStatusSucceeded || d.DeploymentOverview.Succeeded != 2 || d.Creator != cdtypes.DeploymentCreatorUser {
		t.Fatalf("deployment %s: %+v", d.Status, d.DeploymentOverview)
	}
	inst := mustDo[*codedeploy.GetDeploymentInstanceOutput](t, "GetDeploymentInstance")(e.cd.GetDeploymentInstance(ctx,
		&codedeploy.GetDeploymentInstanceInput{DeploymentId: aws.String(id), InstanceId: aws.String("web-1")})).InstanceSummary
	if inst.Status != cdtypes.InstanceStatusSucceeded || len(inst.LifecycleEvents) != 7 || *inst.LifecycleEvents[0].LifecycleEventName != "ApplicationStop" ||
		inst.LifecycleEvents[0].Status != cdtypes.LifecycleEventStatusSkipped || inst.LifecycleEvents[6].Status != cdtypes.LifecycleEventStatusSucceeded ||
		inst.LifecycleEvents[6].StartTime == nil || inst.LifecycleEvents[6].EndTime == nil {
		t.Fatalf("instance summary %+v", inst)
	}
	targets := mustDo[*codedeploy.ListDeploymentTargetsOutput](t, "ListDeploymentTargets")(e.cd.ListDeploymentTargets(ctx,
		&codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(id)}))
	if !slices.Equal(targets.TargetIds, []string{"web-1", "web-2"}) {
		t.Fatalf("targets %v", targets.TargetIds)
	}
	tgt := mustDo[*codedeploy.GetDeploymentTargetOutput](t, "GetDeploymentTarget")(e.cd.GetDeploymentTarget(ctx,
		&codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(id), TargetId: aws.String("web-2")})).DeploymentTarget
	if tgt.InstanceTarget == nil || tgt.InstanceTarget.Status != cdtypes.TargetStatusSucceeded {
		t.Fatalf("target %+v", tgt)
	}

	// A failing ValidateService under OneAtATime fails the deployment;
	// auto-rollback redeploys v1.
	id2 := e.create(&codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), Revision: s3Rev("v2.zip"),
		AutoRollbackConfiguration: &cdtypes.AutoRollbackConfiguration{Enabled: true, Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure}}})
	ran, d2 := e.drive(id2, func(_, c string) *hostcmd.Diagnostics {
		if c == "ValidateService" {
			return &hostcmd.Diagnostics{ErrorCode: hostcmd.CodeScriptFailed, ScriptName: "scripts/validate.sh", Message: "Script at specified location: scripts/validate.sh run as user root failed with exit code 1", Log: "health check failed"}
		}
		return nil
	})
	if d2.Status != cdtypes.DeploymentStatusFailed || d2.ErrorInformation == nil || d2.ErrorInformation.Code != cdtypes.ErrorCodeHealthConstraints {
		t.Fatalf("failed deployment %s %+v", d2.Status, d2.ErrorInformation)
	}
	if d2.RollbackInfo == nil || d2.RollbackInfo.RollbackDeploymentId == nil {
		t.Fatalf("no rollback on %+v", d2.RollbackInfo)
	}
	if len(ran["web-1"])+len(ran["web-2"]) == 0 || ran["web-1"][0] != "ApplicationStop" && ran["web-2"][0] != "ApplicationStop" {
		t.Errorf("second deployment did not start with ApplicationStop: %v", ran)
	}
	rbID := *d2.RollbackInfo.RollbackDeploymentId
	rb := e.get(rbID)
	if rb.Creator != cdtypes.DeploymentCreatorCodeDeployRollback || rb.RollbackInfo == nil || aws.ToString(rb.RollbackInfo.RollbackTriggeringDeploymentId) != id2 ||
		aws.ToString(rb.Revision.S3Location.Key) != "v1.zip" {
		t.Fatalf("rollback deployment %+v", rb)
	}
	failed := mustDo[*codedeploy.ListDeploymentInstancesOutput](t, "ListDeploymentInstances")(e.cd.ListDeploymentInstances(ctx,
		&codedeploy.ListDeploymentInstancesInput{DeploymentId: aws.String(id2), InstanceStatusFilter: []cdtypes.InstanceStatus{cdtypes.InstanceStatusFailed}}))
	if len(failed.InstancesList) != 1 {
		t.Fatalf("failed instances %v", failed.InstancesList)
	}
	fi := mustDo[*codedeploy.GetDeploymentInstanceOutput](t, "GetDeploymentInstance")(e.cd.GetDeploymentInstance(ctx,
		&codedeploy.GetDeploymentInstanceInput{DeploymentId: aws.String(id2), InstanceId: aws.String(failed.InstancesList[0])})).InstanceSummary
	var vs *cdtypes.LifecycleEvent
	for i := range fi.LifecycleEvents {
		if aws.ToString(fi.LifecycleEvents[i].LifecycleEventName) == "ValidateService" {
			vs = &fi.LifecycleEvents[i]
		}
	}
	if vs == nil || vs.Status != cdtypes.LifecycleEventStatusFailed || vs.Diagnostics == nil || vs.Diagnostics.ErrorCode != cdtypes.LifecycleErrorCodeScriptFailed ||
		aws.ToString(vs.Diagnostics.ScriptName) != "scripts/validate.sh" || aws.ToString(vs.Diagnostics.LogTail) != "health check failed" {
		t.Fatalf("ValidateService event %+v", vs)
	}
	_, rbDone := e.drive(rbID, func(string, string) *hostcmd.Diagnostics { return nil })
	if rbDone.Status != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("rollback ended %s", rbDone.Status)
	}

	// An agent that stops polling fails its event within the lease.
	id3 := e.create(&codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), Revision: s3Rev("v2.zip")})
	deadline := time.Now().Add(15 * time.Second)
	var d3 *cdtypes.DeploymentInfo
	for time.Now().Before(deadline) {
		if d3 = e.get(id3); !deploy.IsActive(string(d3.Status)) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d3.Status != cdtypes.DeploymentStatusFailed {
		t.Fatalf("deployment with silent agents: %s", d3.Status)
	}
	found := false
	for _, n := range []string{"web-1", "web-2"} {
		s := mustDo[*codedeploy.GetDeploymentInstanceOutput](t, "GetDeploymentInstance")(e.cd.GetDeploymentInstance(ctx,
			&codedeploy.GetDeploymentInstanceInput{DeploymentId: aws.String(id3), InstanceId: aws.String(n)})).InstanceSummary
		for _, ev := range s.LifecycleEvents {
			if ev.Diagnostics != nil && strings.Contains(aws.ToString(ev.Diagnostics.Message), "AGENT_ISSUE") && ev.Status == cdtypes.LifecycleEventStatusFailed {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("no lifecycle event failed with AGENT_ISSUE")
	}
	_, err = e.cd.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id3)})
	wantDeployError(t, err, "DeploymentAlreadyCompletedException", "already completed")
	_, err = e.cd.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(id3)})
	wantDeployError(t, err, "UnsupportedActionForDeploymentTypeException", "in-place")
	list := mustDo[*codedeploy.ListDeploymentsOutput](t, "ListDeployments")(e.cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{
		ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), IncludeOnlyStatuses: []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusFailed}}))
	if !slices.Equal(list.Deployments, []string{id3, id2}) {
		t.Fatalf("ListDeployments Failed = %v, want %v", list.Deployments, []string{id3, id2})
	}
}

func TestStopDeploymentWithRollback(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t)
	ctx := context.Background()
	id := e.create(&codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), Revision: s3Rev("v1.zip")})
	if _, d := e.drive(id, func(string, string) *hostcmd.Diagnostics { return nil }); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("first deployment %s", d.Status)
	}
	id2 := e.create(&codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), Revision: s3Rev("v2.zip")})
	var cmd *cdcmdapi.HostCommandInstance
	var a *agent
	for cmd == nil {
		for _, n := range []string{"web-1", "web-2"} {
			if c := e.agents[n].poll(); c != nil {
				cmd, a = c, e.agents[n]
				break
			}
		}
	}
	stop := mustDo[*codedeploy.StopDeploymentOutput](t, "StopDeployment")(e.cd.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id2), AutoRollbackEnabled: aws.Bool(true)}))
	if stop.Status != cdtypes.StopStatusPending {
		t.Fatalf("stop status %s", stop.Status)
	}
	a.run(cmd, never)
	_, d := e.drive(id2, func(string, string) *hostcmd.Diagnostics { return nil })
	if d.Status != cdtypes.DeploymentStatusStopped || d.ErrorInformation == nil || d.ErrorInformation.Code != cdtypes.ErrorCodeManualStop {
		t.Fatalf("stopped deployment %s %+v", d.Status, d.ErrorInformation)
	}
	if d.RollbackInfo == nil || d.RollbackInfo.RollbackDeploymentId == nil {
		t.Fatalf("no rollback: %+v", d.RollbackInfo)
	}
	rb := e.get(*d.RollbackInfo.RollbackDeploymentId)
	if rb.Creator != cdtypes.DeploymentCreatorCodeDeployRollback || aws.ToString(rb.RollbackInfo.RollbackTriggeringDeploymentId) != id2 {
		t.Fatalf("rollback %+v", rb)
	}
}
