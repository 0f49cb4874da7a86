package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/cdcmdapi"
	"github.com/slipway-cd/slipway/internal/hostcmd"
)

// fakeService is an in-memory command service.
type fakeService struct {
	mu        sync.Mutex
	commands  []*cdcmdapi.HostCommandInstance
	specs     map[string]*cdcmdapi.GetDeploymentSpecificationOutput
	ackStatus string
	pollErrs  int
	acks      []cdcmdapi.PutHostCommandAcknowledgementInput
	completes []cdcmdapi.PutHostCommandCompleteInput
	updates   []string
	refuseLog bool
	done      chan struct{}
}

func (s *fakeService) PollHostCommand(_ context.Context, in *cdcmdapi.PollHostCommandInput) (*cdcmdapi.PollHostCommandOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pollErrs > 0 {
		s.pollErrs--
		return nil, errors.New("connection refused")
	}
	if len(s.commands) == 0 {
		return &cdcmdapi.PollHostCommandOutput{}, nil
	}
	c := s.commands[0]
	s.commands = s.commands[1:]
	return &cdcmdapi.PollHostCommandOutput{HostCommand: c}, nil
}

func (s *fakeService) GetDeploymentSpecification(_ context.Context, in *cdcmdapi.GetDeploymentSpecificationInput) (*cdcmdapi.GetDeploymentSpecificationOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, ok := s.specs[in.DeploymentExecutionId]
	if !ok {
		return nil, &ServiceError{Code: "ClientException", Message: "no such deployment", StatusCode: 400}
	}
	return out, nil
}

func (s *fakeService) PutHostCommandAcknowledgement(_ context.Context, in *cdcmdapi.PutHostCommandAcknowledgementInput) (*cdcmdapi.PutHostCommandAcknowledgementOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acks = append(s.acks, *in)
	return &cdcmdapi.PutHostCommandAcknowledgementOutput{CommandStatus: s.ackStatus}, nil
}

func (s *fakeService) PutHostCommandComplete(_ context.Context, in *cdcmdapi.PutHostCommandCompleteInput) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.completes = append(s.completes, *in)
	if s.done != nil && len(s.commands) == 0 {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
	return nil
}

func (s *fakeService) PostHostCommandUpdate(_ context.Context, in *cdcmdapi.PostHostCommandUpdateInput) (*cdcmdapi.PostHostCommandUpdateOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuseLog {
		return nil, &ServiceError{Code: "ClientException", Message: "unsupported", StatusCode: 400}
	}
	if in.Diagnostics == nil || in.Diagnostics.Format != LogFormat {
		return nil, errors.New("bad format")
	}
	s.updates = append(s.updates, in.Diagnostics.Payload)
	return &cdcmdapi.PostHostCommandUpdateOutput{}, nil
}

const hostARN = "arn:aws:iam::123456789012:user/web-1"

func signedSpec(t *testing.T, spec *hostcmd.Spec) *cdcmdapi.GetDeploymentSpecificationOutput {
	t.Helper()
	signer, err := hostcmd.NewSigner("slipway test")
	if err != nil {
		t.Fatal(err)
	}
	env, err := signer.Sign(spec)
	if err != nil {
		t.Fatal(err)
	}
	return &cdcmdapi.GetDeploymentSpecificationOutput{DeploymentSystem: "CodeDeploy",
		DeploymentSpecification: &cdcmdapi.DeploymentSpecification{GenericEnvelope: &cdcmdapi.Envelope{Format: env.Format, Payload: env.Payload}}}
}

func newTestAgent(t *testing.T, svc *fakeService) (*Agent, *fixture) {
	f := newFixture(t)
	return &Agent{Service: svc, Executor: f.x, HostID: hostARN, WaitBetweenRuns: 10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond, CompleteRetryFor: time.Second}, f
}

func TestAgentRunsDeployment(t *testing.T) {
	t.Parallel()
	svc := &fakeService{specs: map[string]*cdcmdapi.GetDeploymentSpecificationOutput{}, pollErrs: 3, done: make(chan struct{})}
	a, f := newTestAgent(t, svc)
	f.fetch["d-1"] = fullBundle(t, "v1")
	exec := hostcmd.ExecutionID("d-1", "web-1")
	svc.specs[exec] = signedSpec(t, &hostcmd.Spec{DeploymentId: "d-1", DeploymentGroupId: "dg-1", DeploymentGroupName: "web",
		ApplicationName: "shop", Revision: hostcmd.Revision{RevisionType: "S3",
			S3Revision: &hostcmd.S3Revision{Bucket: "b", Key: "k.zip", BundleType: "zip"}}})
	for i, name := range []string{"ApplicationStop", "DownloadBundle", "BeforeInstall", "Install", "AfterInstall", "ApplicationStart", "ValidateService"} {
		svc.commands = append(svc.commands, &cdcmdapi.HostCommandInstance{HostCommandIdentifier: "hc-" + string(rune('0'+i)),
			HostIdentifier: "user/web-1", DeploymentExecutionId: exec, CommandName: name})
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error)
	go func() { ran <- a.Run(ctx) }()
	select {
	case <-svc.done:
	case <-time.After(30 * time.Second):
		t.Fatal("deployment did not finish")
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if len(svc.completes) != 7 {
		t.Fatalf("%d completions", len(svc.completes))
	}
	for _, c := range svc.completes {
		var d Diagnostics
		json.Unmarshal([]byte(c.Diagnostics.Payload), &d)
		if c.CommandStatus != "Succeeded" || d.ErrorCode != 0 || d.Message != "Succeeded: " || c.Diagnostics.Format != "JSON" {
			t.Errorf("completion %+v %s", c, c.Diagnostics.Payload)
		}
	}
	if svc.acks[0].Diagnostics.Payload != `{"IsCommandNoop":true}` || svc.acks[1].Diagnostics.Payload != `{"IsCommandNoop":false}` {
		t.Errorf("acks %+v %+v", svc.acks[0].Diagnostics, svc.acks[1].Diagnostics)
	}
	if got := readFile(t, filepath.Join(f.install, "events")); got != "BeforeInstall\nAfterInstall\nApplicationStart\nValidateService\n" {
		t.Errorf("events %q", got)
	}
	if len(svc.updates) == 0 || !strings.Contains(strings.Join(svc.updates, ""), "[stdout]out ApplicationStart") {
		t.Errorf("streamed output %q", svc.updates)
	}
	if entries, _ := os.ReadDir(filepath.Join(f.root, "ongoing-deployment")); len(entries) != 0 {
		t.Errorf("tracking files left: %v", entries)
	}
}

func TestAgentReportsFailures(t *testing.T) {
	t.Parallel()
	svc := &fakeService{specs: map[string]*cdcmdapi.GetDeploymentSpecificationOutput{}, refuseLog: true}
	a, f := newTestAgent(t, svc)
	f.fetch["d-1"] = scriptBundle(t, "AfterInstall", &bundleFile{body: "#!/bin/sh\necho bad >&2\nexit 1\n", mode: 0o755}, 0)
	svc.specs["x/d-1"] = signedSpec(t, &hostcmd.Spec{DeploymentId: "d-1", DeploymentGroupId: "dg-1", DeploymentGroupName: "web",
		ApplicationName: "shop", Revision: hostcmd.Revision{RevisionType: "S3", S3Revision: &hostcmd.S3Revision{Bucket: "b", Key: "k", BundleType: "zip"}}})
	svc.specs["x/wrong-system"] = &cdcmdapi.GetDeploymentSpecificationOutput{DeploymentSystem: "Other"}
	svc.specs["x/unsigned"] = &cdcmdapi.GetDeploymentSpecificationOutput{DeploymentSystem: "CodeDeploy",
		DeploymentSpecification: &cdcmdapi.DeploymentSpecification{GenericEnvelope: &cdcmdapi.Envelope{Format: "TEXT/JSON", Payload: "{}"}}}
	ctx := context.Background()
	for _, c := range []struct{ exec, name string }{{"x/d-1", "DownloadBundle"}, {"x/d-1", "AfterInstall"}, {"x/wrong-system", "Install"}, {"x/unsigned", "Install"}} {
		a.Process(ctx, &cdcmdapi.HostCommandInstance{HostCommandIdentifier: c.exec + c.name, HostIdentifier: hostARN, DeploymentExecutionId: c.exec, CommandName: c.name})
	}
	want := []struct {
		status string
		code   int
		msg    string
	}{{"Succeeded", 0, "Succeeded"}, {"Failed", 4, "failed with exit code 1"}, {"Failed", 5, "Deployment System mismatch"}, {"Failed", 5, "unsupported deployment specification format: TEXT/JSON"}}
	if len(svc.completes) != len(want) {
		t.Fatalf("completions %+v", svc.completes)
	}
	for i, w := range want {
		var d Diagnostics
		json.Unmarshal([]byte(svc.completes[i].Diagnostics.Payload), &d)
		if svc.completes[i].CommandStatus != w.status || d.ErrorCode != w.code || !strings.Contains(d.Message, w.msg) {
			t.Errorf("completion %d: %s %+v, want %+v", i, svc.completes[i].CommandStatus, d, w)
		}
	}
	var d Diagnostics
	json.Unmarshal([]byte(svc.completes[1].Diagnostics.Payload), &d)
	if d.ScriptName != "scripts/s.sh" || !strings.Contains(d.Log, "[stderr]bad") {
		t.Errorf("script diagnostics %+v", d)
	}
}

func TestAgentAckStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ack, cmd  string
		completes int
		status    string
	}{
		{"Succeeded", "Install", 0, ""},
		{"Failed", "Install", 0, ""},
		{"Failed", "ApplicationStop", 1, "Succeeded"}, // no-op on a first deployment
	} {
		svc := &fakeService{specs: map[string]*cdcmdapi.GetDeploymentSpecificationOutput{}, ackStatus: tc.ack}
		a, _ := newTestAgent(t, svc)
		svc.specs["x/d-1"] = signedSpec(t, &hostcmd.Spec{DeploymentId: "d-1", DeploymentGroupId: "dg-1", DeploymentGroupName: "web",
			ApplicationName: "shop", Revision: hostcmd.Revision{RevisionType: "S3", S3Revision: &hostcmd.S3Revision{Bucket: "b", Key: "k", BundleType: "zip"}}})
		a.Process(context.Background(), &cdcmdapi.HostCommandInstance{HostCommandIdentifier: "hc", HostIdentifier: hostARN, DeploymentExecutionId: "x/d-1", CommandName: tc.cmd})
		if len(svc.completes) != tc.completes || (tc.completes == 1 && (svc.completes[0].CommandStatus != tc.status ||
			!strings.Contains(svc.completes[0].Diagnostics.Payload, "Succeeded: CompletedNoopCommand"))) {
			t.Errorf("ack %s %s: completions %+v", tc.ack, tc.cmd, svc.completes)
		}
	}
}

func TestHostIdentifierMismatch(t *testing.T) {
	t.Parallel()
	svc := &fakeService{commands: []*cdcmdapi.HostCommandInstance{{HostCommandIdentifier: "hc", HostIdentifier: "arn:other", CommandName: "Install"}}}
	a, _ := newTestAgent(t, svc)
	if _, err := a.RunOnce(context.Background(), context.Background()); err == nil || !strings.Contains(err.Error(), "Host identifier mismatch") {
		t.Fatalf("err = %v", err)
	}
}

func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	svc := &fakeService{}
	a, f := newTestAgent(t, svc)
	dir := filepath.Join(f.root, "ongoing-deployment")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "d-old"), []byte("hc-old"), 0o644)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(filepath.Join(dir, "d-old"), old, old)
	os.WriteFile(filepath.Join(dir, "d-new"), []byte("hc-new"), 0o644)
	if !a.RecoverFromCrash(context.Background()) {
		t.Fatal("no recovery")
	}
	if len(svc.completes) != 1 || svc.completes[0].HostCommandIdentifier != "hc-new" || svc.completes[0].CommandStatus != "Failed" {
		t.Fatalf("completions %+v", svc.completes)
	}
	var d Diagnostics
	json.Unmarshal([]byte(svc.completes[0].Diagnostics.Payload), &d)
	if d.ErrorCode != 7 || d.Message != "Failed: Failing in-progress lifecycle event after an agent restart." {
		t.Fatalf("diagnostics %+v", d)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("tracking directory left")
	}

	// A stale (older than 24 h) tracking file is not reported.
	svc2 := &fakeService{}
	a2, f2 := newTestAgent(t, svc2)
	dir2 := filepath.Join(f2.root, "ongoing-deployment")
	os.MkdirAll(dir2, 0o755)
	os.WriteFile(filepath.Join(dir2, "d-stale"), []byte("hc"), 0o644)
	stale := time.Now().Add(-25 * time.Hour)
	os.Chtimes(filepath.Join(dir2, "d-stale"), stale, stale)
	if a2.RecoverFromCrash(context.Background()) || len(svc2.completes) != 0 {
		t.Fatal("stale tracking file reported")
	}
}

func TestClientSignsAndDownloads(t *testing.T) {
	t.Parallel()
	bundle := []byte("bundle-bytes")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if !strings.Contains(auth, "/us-west-2/codedeploy-commands/aws4_request") || r.Header.Get(AgentVersionHeader) == "" {
			w.WriteHeader(403)
			io.WriteString(w, `{"__type":"AccessDeniedException","message":"bad auth `+auth+`"}`)
			return
		}
		if r.Method == http.MethodGet && r.URL.Path == "/deploy/bundles/d-1" {
			w.Header().Set("ETag", `"abc"`)
			w.Write(bundle)
			return
		}
		if r.Header.Get("X-Amz-Target") != "CodeDeployCommandService_v20141006.PollHostCommand" {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"ClientException","message":"unknown op"}`)
			return
		}
		var in cdcmdapi.PollHostCommandInput
		json.NewDecoder(r.Body).Decode(&in)
		json.NewEncoder(w).Encode(cdcmdapi.PollHostCommandOutput{HostCommand: &cdcmdapi.HostCommandInstance{HostIdentifier: in.HostIdentifier, CommandName: "Install"}})
	}))
	defer srv.Close()
	cfg, err := ParseConfig([]byte(":deploy_control_endpoint: " + srv.URL + "\nregion: us-west-2\naws_access_key_id: AKIAEXAMPLE\naws_secret_access_key: secretsecretsecret\niam_user_arn: " + hostARN + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.PollHostCommand(context.Background(), &cdcmdapi.PollHostCommandInput{HostIdentifier: hostARN})
	if err != nil || out.HostCommand == nil || out.HostCommand.HostIdentifier != hostARN {
		t.Fatalf("poll: %+v %v", out, err)
	}
	_, err = c.PutHostCommandAcknowledgement(context.Background(), &cdcmdapi.PutHostCommandAcknowledgementInput{HostCommandIdentifier: "x"})
	var se *ServiceError
	if !errors.As(err, &se) || se.Code != "ClientException" || !IsClientError(err) {
		t.Fatalf("error %v", err)
	}
	var buf strings.Builder
	etag, err := c.FetchBundle(context.Background(), &DeploymentSpec{DeploymentID: "d-1"}, &buf)
	if err != nil || buf.String() != string(bundle) || etag != `"abc"` {
		t.Fatalf("fetch %q %q %v", buf.String(), etag, err)
	}
	u, _ := c.BundleURL(&DeploymentSpec{DeploymentID: "d-1", SlipwayBundleURL: "/deploy/bundles/d-9"})
	if u != srv.URL+"/deploy/bundles/d-9" {
		t.Fatalf("bundle url %s", u)
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig([]byte(`
endpoint: https://slipway.example:7700
:root_dir: /var/lib/slipway-agent
aws_access_key_id: AKIAEXAMPLE
aws_secret_access_key: secretsecretsecret
iam_session_arn: arn:aws:sts::1:assumed-role/r/s
wait_between_runs: 5
max_backoff: 2m
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.RootDir != "/var/lib/slipway-agent" || c.MaxRevisions != 5 || c.WaitBetweenRuns.D() != 5*time.Second ||
		c.MaxBackoff.D() != 2*time.Minute || c.HostID() != "arn:aws:sts::1:assumed-role/r/s" || c.Region != "us-east-1" {
		t.Fatalf("%+v", c)
	}
	for _, bad := range []string{
		"endpoint: x\n",
		"endpoint: http://a\naws_access_key_id: a\naws_secret_access_key: b\n",
		"endpoint: http://a\naws_access_key_id: a\naws_secret_access_key: b\niam_user_arn: u\niam_session_arn: s\n",
		"endpoint: http://a\naws_access_key_id: a\naws_secret_access_key: b\niam_user_arn: u\nroot_dirr: /x\n",
		"endpoint: http://a\naws_access_key_id: a\naws_secret_access_key: b\niam_user_arn: u\nmax_revisions: -1\n",
	} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
