package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/smithy-go"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/server"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// These tests run S3 source and deploy actions against the server's
// filesystem artifact store, the S3 source poller, and Lambda invoke
// actions whose functions are real processes (the examples/testurl
// function, and this test binary in helper mode) or HTTP endpoints that
// report through the CodePipeline job API with the job's own credentials.

// startPublic is start with the server's public URL set to its listener's
// address, as functions need it to call back.
func startPublic(t *testing.T, mutate func(*server.Config)) *bundle {
	t.Helper()
	dir := t.TempDir()
	var handler http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	cfg := server.Config{DataDir: dir, Stdout: io.Discard, Logger: slog.New(slog.DiscardHandler)}
	fastEngine(&cfg)
	cfg.Engine.ConsoleURL = ts.URL
	cfg.S3Poll = 50 * time.Millisecond
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	handler = srv.Handler()
	stop := srv.StartBackground()
	t.Cleanup(func() { ts.Close(); stop(); srv.Close() })
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(dir, "credentials"), "default")
	if err != nil {
		t.Fatalf("read credentials: %v", err)
	}
	return &bundle{dir: dir, srv: srv, url: ts.URL, client: newClient(ts.URL, id, secret)}
}

func awsAction(name string, category types.ActionCategory, provider string, config map[string]string, in, out []string) types.ActionDeclaration {
	a := types.ActionDeclaration{
		Name:          aws.String(name),
		ActionTypeId:  &types.ActionTypeId{Category: category, Owner: types.ActionOwnerAws, Provider: aws.String(provider), Version: aws.String("1")},
		Configuration: config,
	}
	for _, n := range in {
		a.InputArtifacts = append(a.InputArtifacts, types.InputArtifact{Name: aws.String(n)})
	}
	for _, n := range out {
		a.OutputArtifacts = append(a.OutputArtifacts, types.OutputArtifact{Name: aws.String(n)})
	}
	return a
}

// s3Pipeline is an S3 source (bucket/key, output App) and one more stage.
func s3Pipeline(name, bucket, key string, stage string, actions ...types.ActionDeclaration) *types.PipelineDeclaration {
	return &types.PipelineDeclaration{
		Name:          aws.String(name),
		RoleArn:       aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("codepipeline-us-east-1-1234567890")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{awsAction("Source", types.ActionCategorySource, "S3",
				map[string]string{"S3Bucket": bucket, "S3ObjectKey": key}, nil, []string{"App"})}},
			{Name: aws.String(stage), Actions: actions},
		},
	}
}

func putObject(t *testing.T, b *bundle, bucket, key string, data []byte) artifact.ObjectInfo {
	t.Helper()
	info, err := b.srv.Artifacts().Put(context.Background(), bucket, key, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return info
}

func getObject(t *testing.T, b *bundle, bucket, key string) []byte {
	t.Helper()
	r, _, err := b.srv.Artifacts().Get(context.Background(), bucket, key)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func listExecutions(t *testing.T, b *bundle, pipeline string) []types.PipelineExecutionSummary {
	t.Helper()
	out, err := b.client.ListPipelineExecutions(context.Background(), &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(pipeline)})
	if err != nil {
		t.Fatalf("ListPipelineExecutions: %v", err)
	}
	return out.PipelineExecutionSummaries
}

// openStore opens the server's database a second time (SQLite allows
// several connections), to look at what the poller recorded.
func openStore(t *testing.T, b *bundle) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(b.dir, "slipway.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// waitPolled waits until the poller has recorded the object at its
// revision (version ID, or "" for a missing object).
func waitPolled(t *testing.T, st store.Store, bucket, key, version string) {
	t.Helper()
	eventually(t, "the poller to record "+bucket+"/"+key, func() (bool, string) {
		s, err := st.GetObjectPollState(context.Background(), bucket, key)
		if err != nil {
			return false, err.Error()
		}
		return s.VersionID == version, "version " + s.VersionID
	})
}

func TestS3SourceAndDeploy(t *testing.T) {
	t.Parallel()
	b := startPublic(t, nil)
	st := openStore(t, b)
	ctx := context.Background()
	v1zip := zipFiles(t, map[string]string{"index.html": "<h1>v1</h1>", "css/site.css": "body{}"})
	v1 := putObject(t, b, "source-bucket", "app/app.zip", v1zip)

	p := s3Pipeline("S3Flow", "source-bucket", "app/app.zip", "Deploy",
		awsAction("Extract", types.ActionCategoryDeploy, "S3", map[string]string{"BucketName": "site-bucket", "Extract": "true", "ObjectKey": "web/"}, []string{"App"}, nil),
		awsAction("Copy", types.ActionCategoryDeploy, "S3", map[string]string{"BucketName": "copy-bucket", "Extract": "false", "ObjectKey": "releases/app.zip"}, []string{"App"}, nil),
		awsAction("Root", types.ActionCategoryDeploy, "S3", map[string]string{"BucketName": "root-bucket", "Extract": "TRUE"}, []string{"App"}, nil),
	)
	p.Stages[0].Actions[0].Namespace = aws.String("SourceVariables")
	first := startPipeline(t, b, p)
	waitExecution(t, b.client, "S3Flow", first, types.PipelineExecutionStatusSucceeded)

	src := actionExecutions(t, b.client, "S3Flow", first)["Source"]
	want := map[string]string{"ETag": v1.ETag, "VersionId": v1.VersionID, "ObjectKey": "app/app.zip"}
	for k, v := range want {
		if got := src.Output.OutputVariables[k]; got != v {
			t.Errorf("source output variable %s = %q, want %q", k, got, v)
		}
	}
	if got := getObject(t, b, "site-bucket", "web/index.html"); string(got) != "<h1>v1</h1>" {
		t.Errorf("extracted index.html = %q", got)
	}
	if got := getObject(t, b, "site-bucket", "web/css/site.css"); string(got) != "body{}" {
		t.Errorf("extracted css/site.css = %q", got)
	}
	if got := getObject(t, b, "root-bucket", "index.html"); string(got) != "<h1>v1</h1>" {
		t.Errorf("extracted without a prefix: index.html = %q", got)
	}
	if got := getObject(t, b, "copy-bucket", "releases/app.zip"); !bytes.Equal(got, v1zip) {
		t.Errorf("copied artifact differs from the source object (%d bytes, want %d)", len(got), len(v1zip))
	}
	if sum := aws.ToString(actionExecutions(t, b.client, "S3Flow", first)["Extract"].Output.ExecutionResult.ExternalExecutionSummary); !strings.Contains(sum, "2 files") {
		t.Errorf("Extract summary = %q", sum)
	}

	// A new version starts an execution pinned to it; the first
	// observation (v1) started nothing.
	waitPolled(t, st, "source-bucket", "app/app.zip", v1.VersionID)
	if n := len(listExecutions(t, b, "S3Flow")); n != 1 {
		t.Fatalf("%d executions after the poller's first look, want 1", n)
	}
	v2 := putObject(t, b, "source-bucket", "app/app.zip", zipFiles(t, map[string]string{"index.html": "<h1>v2</h1>"}))
	var second string
	eventually(t, "an execution for the new version", func() (bool, string) {
		xs := listExecutions(t, b, "S3Flow")
		if len(xs) < 2 {
			return false, "no new execution"
		}
		second = aws.ToString(xs[0].PipelineExecutionId)
		return true, ""
	})
	x := waitExecution(t, b.client, "S3Flow", second, types.PipelineExecutionStatusSucceeded)
	if x.Trigger == nil || x.Trigger.TriggerType != types.TriggerTypePollForSourceChanges {
		t.Errorf("trigger = %+v, want PollForSourceChanges", x.Trigger)
	}
	if len(x.ArtifactRevisions) != 1 || aws.ToString(x.ArtifactRevisions[0].RevisionId) != v2.VersionID ||
		aws.ToString(x.ArtifactRevisions[0].RevisionSummary) != "app/app.zip version "+v2.VersionID {
		t.Errorf("artifact revisions = %s, want version %s", dump(x.ArtifactRevisions), v2.VersionID)
	}
	if got := actionExecutions(t, b.client, "S3Flow", second)["Source"].Output.OutputVariables["VersionId"]; got != v2.VersionID {
		t.Errorf("VersionId of the second execution = %q, want %q", got, v2.VersionID)
	}
	if got := getObject(t, b, "site-bucket", "web/index.html"); string(got) != "<h1>v2</h1>" {
		t.Errorf("extracted index.html after v2 = %q", got)
	}

	// One execution per change: later polls start nothing more.
	waitPolled(t, st, "source-bucket", "app/app.zip", v2.VersionID)
	time.Sleep(300 * time.Millisecond)
	if n := len(listExecutions(t, b, "S3Flow")); n != 2 {
		t.Errorf("%d executions after two versions, want 2", n)
	}

	// PollForSourceChanges false: no detection.
	p2 := s3Pipeline("S3NoPoll", "source-bucket", "other.zip", "Deploy",
		awsAction("Copy", types.ActionCategoryDeploy, "S3", map[string]string{"BucketName": "copy-bucket", "Extract": "false", "ObjectKey": "other.zip"}, []string{"App"}, nil))
	p2.Stages[0].Actions[0].Configuration["PollForSourceChanges"] = "false"
	firstNoPoll := startPipeline(t, b, p2)
	x = waitExecution(t, b.client, "S3NoPoll", firstNoPoll, types.PipelineExecutionStatusFailed)
	if d := actionExecutions(t, b.client, "S3NoPoll", firstNoPoll)["Source"]; !strings.Contains(aws.ToString(d.Output.ExecutionResult.ErrorDetails.Message), "does not exist") {
		t.Errorf("missing source object: %s", dump(d.Output.ExecutionResult.ErrorDetails))
	}
	putObject(t, b, "source-bucket", "other.zip", []byte("not a zip"))
	time.Sleep(300 * time.Millisecond)
	if n := len(listExecutions(t, b, "S3NoPoll")); n != 1 {
		t.Errorf("PollForSourceChanges false: %d executions, want 1", n)
	}
	if _, err := st.GetObjectPollState(ctx, "source-bucket", "other.zip"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an object no action polls was recorded: %v", err)
	}

	// Extracting an artifact that is not a zip fails the deploy action.
	p3 := s3Pipeline("S3BadZip", "source-bucket", "other.zip", "Deploy",
		awsAction("Extract", types.ActionCategoryDeploy, "S3", map[string]string{"BucketName": "site-bucket", "Extract": "true"}, []string{"App"}, nil))
	bad := startPipeline(t, b, p3)
	waitExecution(t, b.client, "S3BadZip", bad, types.PipelineExecutionStatusFailed)
	if d := actionExecutions(t, b.client, "S3BadZip", bad)["Extract"]; !strings.Contains(aws.ToString(d.Output.ExecutionResult.ErrorDetails.Message), "not a zip") {
		t.Errorf("deploying a non-zip: %s", dump(d.Output.ExecutionResult.ErrorDetails))
	}
}

// TestS3SourceFirstUpload: an object missing at the first look starts the
// pipeline when it is uploaded.
func TestS3SourceFirstUpload(t *testing.T) {
	t.Parallel()
	b := startPublic(t, nil)
	st := openStore(t, b)
	p := s3Pipeline("Later", "drop-bucket", "later.zip", "Deploy",
		awsAction("Copy", types.ActionCategoryDeploy, "S3", map[string]string{"BucketName": "copy-bucket", "Extract": "false", "ObjectKey": "later.zip"}, []string{"App"}, nil))
	first := startPipeline(t, b, p)
	waitExecution(t, b.client, "Later", first, types.PipelineExecutionStatusFailed)
	waitPolled(t, st, "drop-bucket", "later.zip", "")
	info := putObject(t, b, "drop-bucket", "later.zip", []byte("payload"))
	eventually(t, "an execution for the upload", func() (bool, string) {
		xs := listExecutions(t, b, "Later")
		return len(xs) == 2 && xs[0].Status == types.PipelineExecutionStatusSucceeded, dump(xs)
	})
	if got := getObject(t, b, "copy-bucket", "later.zip"); string(got) != "payload" {
		t.Errorf("copied %q", got)
	}
	waitPolled(t, st, "drop-bucket", "later.zip", info.VersionID)
}

// functionBundle starts a server with a source object for Lambda
// pipelines and returns it with an extension client.
func functionBundle(t *testing.T) (*bundle, *slipwayapi.Client) {
	t.Helper()
	b := startPublic(t, nil)
	putObject(t, b, "fn-source", "app.zip", zipFiles(t, map[string]string{"a.txt": "a"}))
	return b, extClient(t, b)
}

func lambdaPipeline(name, function, userParameters string) *types.PipelineDeclaration {
	cfg := map[string]string{"FunctionName": function}
	if userParameters != "" {
		cfg["UserParameters"] = userParameters
	}
	return s3Pipeline(name, "fn-source", "app.zip", "LambdaStage",
		awsAction("MyLambdaAction", types.ActionCategoryInvoke, "Lambda", cfg, []string{"App"}, nil))
}

// runLambda runs a Lambda pipeline to the wanted status and returns the
// Lambda action's last run.
func runLambda(t *testing.T, b *bundle, p *types.PipelineDeclaration, want types.PipelineExecutionStatus) types.ActionExecutionDetail {
	t.Helper()
	id := startPipeline(t, b, p)
	waitExecution(t, b.client, aws.ToString(p.Name), id, want)
	return actionExecutions(t, b.client, aws.ToString(p.Name), id)["MyLambdaAction"]
}

func errorMessage(d types.ActionExecutionDetail) string {
	if d.Output == nil || d.Output.ExecutionResult == nil || d.Output.ExecutionResult.ErrorDetails == nil {
		return ""
	}
	return aws.ToString(d.Output.ExecutionResult.ErrorDetails.Message)
}

func TestLambdaTestURL(t *testing.T) {
	t.Parallel()
	b, ext := functionBundle(t)
	ctx := context.Background()
	bin := buildBinary(t, "examples/testurl")
	if _, err := ext.CreateFunction(ctx, &slipwayapi.CreateFunctionInput{FunctionName: "MyLambdaFunctionForAWSCodePipeline", Command: []string{bin}, TimeoutSeconds: 20}); err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			io.WriteString(w, "<h1>Congratulations!</h1>")
		case "/plain":
			io.WriteString(w, "hello")
		default:
			http.Error(w, "broken", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(site.Close)

	d := runLambda(t, b, lambdaPipeline("TestOK", "MyLambdaFunctionForAWSCodePipeline", site.URL+"/ok"), types.PipelineExecutionStatusSucceeded)
	if sum := aws.ToString(d.Output.ExecutionResult.ExternalExecutionSummary); sum != "Tests passed." {
		t.Errorf("summary = %q, want \"Tests passed.\"", sum)
	}
	// By ARN, as CodePipeline accepts it.
	runLambda(t, b, lambdaPipeline("TestARN", "arn:aws:lambda:us-east-1:123456789012:function:MyLambdaFunctionForAWSCodePipeline", site.URL+"/ok"),
		types.PipelineExecutionStatusSucceeded)

	for _, tc := range []struct{ name, url, want string }{
		{"Test500", site.URL + "/broken", "The page answered HTTP status 500, not 200"},
		{"TestText", site.URL + "/plain", `The page does not contain "Congratulations"`},
		{"TestNoURL", "", "The UserParameters field must contain a valid URL address to test, including http:// or https://"},
		{"TestFTP", "ftp://192.0.2.4/", "The UserParameters field must contain a valid URL address to test"},
	} {
		d := runLambda(t, b, lambdaPipeline(tc.name, "MyLambdaFunctionForAWSCodePipeline", tc.url), types.PipelineExecutionStatusFailed)
		if msg := errorMessage(d); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: failure message %q does not contain %q", tc.name, msg, tc.want)
		}
		if code := aws.ToString(d.Output.ExecutionResult.ErrorDetails.Code); code != "JobFailed" {
			t.Errorf("%s: error code %q, want JobFailed", tc.name, code)
		}
		if id := aws.ToString(d.Output.ExecutionResult.ExternalExecutionId); !uuidRE.MatchString(id) {
			t.Errorf("%s: externalExecutionId %q is not the invocation ID", tc.name, id)
		}
	}

	// A missing function is a configuration error.
	d = runLambda(t, b, lambdaPipeline("TestMissing", "NoSuchFunction", site.URL+"/ok"), types.PipelineExecutionStatusFailed)
	if msg := errorMessage(d); !strings.Contains(msg, "NoSuchFunction does not exist") || aws.ToString(d.Output.ExecutionResult.ErrorDetails.Code) != "ConfigurationError" {
		t.Errorf("missing function: %s", dump(d.Output.ExecutionResult.ErrorDetails))
	}
}

func TestLambdaExitWithoutReport(t *testing.T) {
	t.Parallel()
	b, ext := functionBundle(t)
	ctx := context.Background()
	for name, cmd := range map[string][]string{
		"exit3": {"/bin/sh", "-c", "cat >/dev/null; echo 'cannot reach the database' >&2; exit 3"},
		"exit0": {"/bin/sh", "-c", "exit 0"},
		"sleep": {"/bin/sh", "-c", "exec sleep 30"},
	} {
		in := &slipwayapi.CreateFunctionInput{FunctionName: name, Command: cmd}
		if name == "sleep" {
			in.TimeoutSeconds = 1
		}
		if _, err := ext.CreateFunction(ctx, in); err != nil {
			t.Fatalf("CreateFunction %s: %v", name, err)
		}
	}
	d := runLambda(t, b, lambdaPipeline("Exit3", "exit3", ""), types.PipelineExecutionStatusFailed)
	if msg := errorMessage(d); !strings.Contains(msg, "exited with status 3") || !strings.Contains(msg, "cannot reach the database") {
		t.Errorf("exit 3: failure message %q", msg)
	}
	d = runLambda(t, b, lambdaPipeline("Exit0", "exit0", ""), types.PipelineExecutionStatusFailed)
	if msg := errorMessage(d); !strings.Contains(msg, "exited with status 0 without reporting") {
		t.Errorf("exit 0: failure message %q", msg)
	}
	d = runLambda(t, b, lambdaPipeline("Sleep", "sleep", ""), types.PipelineExecutionStatusFailed)
	if msg := errorMessage(d); !strings.Contains(msg, "timed out after 1 seconds") {
		t.Errorf("timeout: failure message %q", msg)
	}
}

// helperEnv selects what TestHelperFunction does when this test binary
// runs as a function.
const helperEnv = "HELPER_FUNCTION_MODE"

// helperFunction is a command function made of this test binary.
func helperFunction(t *testing.T, ext *slipwayapi.Client, name, mode, dir string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ext.CreateFunction(context.Background(), &slipwayapi.CreateFunctionInput{FunctionName: name,
		Command: []string{exe, "-test.run=^TestHelperFunction$"}, Environment: map[string]string{helperEnv: mode, "HELPER_DIR": dir}}); err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
}

// TestHelperFunction is not a test: it is the function helperFunction
// registers. It records each event it receives in $HELPER_DIR, then in
// mode "continue" reports a continuation token on the first invocation
// and success on the one that carries it.
func TestHelperFunction(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("runs only as a function")
	}
	code := 0
	if err := helperFunctionMain(mode); err != nil {
		os.Stderr.WriteString("helper function: " + err.Error() + "\n")
		code = 1
	}
	os.Exit(code)
}

func helperFunctionMain(mode string) error {
	raw := os.Getenv("SLIPWAY_EVENT")
	stdin, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	if string(stdin) != raw {
		return errors.New("the event on standard input differs from SLIPWAY_EVENT")
	}
	var ev struct {
		Job struct {
			ID   string `json:"id"`
			Data struct {
				ContinuationToken string `json:"continuationToken"`
			} `json:"data"`
		} `json:"CodePipeline.job"`
	}
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		return err
	}
	dir := os.Getenv("HELPER_DIR")
	n, _ := os.ReadDir(dir)
	if err := os.WriteFile(filepath.Join(dir, "event-"+string(rune('0'+len(n)))+".json"), []byte(raw), 0o600); err != nil {
		return err
	}
	ctx := context.Background()
	// The SDK's default configuration: credentials, region and the
	// CodePipeline endpoint all come from the environment.
	cfg := aws.Config{Region: os.Getenv("AWS_REGION"), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))}
	client := codepipeline.NewFromConfig(cfg, func(o *codepipeline.Options) { o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_CODEPIPELINE")) })

	// The job's credentials reach nothing but the job.
	_, err = client.ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		return errors.New("ListPipelines with the job's credentials: want AccessDeniedException, got " + errString(err))
	}
	if _, err := client.GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String(ev.Job.ID)}); err != nil {
		return err
	}
	switch {
	case mode == "continue" && ev.Job.Data.ContinuationToken == "":
		_, err = client.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String(ev.Job.ID),
			ContinuationToken: aws.String("step-2"), ExecutionDetails: &types.ExecutionDetails{Summary: aws.String("started"), PercentComplete: aws.Int32(50)}})
	case mode == "continue":
		_, err = client.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String(ev.Job.ID),
			ExecutionDetails: &types.ExecutionDetails{Summary: aws.String("finished after " + ev.Job.Data.ContinuationToken)},
			OutputVariables:  map[string]string{"Token": ev.Job.Data.ContinuationToken}})
	case mode == "fail-then-exit":
		_, err = client.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{JobId: aws.String(ev.Job.ID),
			FailureDetails: &types.FailureDetails{Type: types.FailureTypeJobFailed, Message: aws.String("reported by the function")}})
		if err == nil {
			err = errors.New("failing the invocation after reporting")
		}
	}
	return err
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

func TestLambdaContinuationAndEvent(t *testing.T) {
	t.Parallel()
	b, ext := functionBundle(t)
	dir := t.TempDir()
	helperFunction(t, ext, "stepper", "continue", dir)
	p := lambdaPipeline("Steps", "stepper", `{"stack":"MyTestStack"}`)
	p.Stages[1].Actions[0].OutputArtifacts = []types.OutputArtifact{{Name: aws.String("Out")}}
	p.Stages[1].Actions[0].Namespace = aws.String("Step")
	d := runLambda(t, b, p, types.PipelineExecutionStatusSucceeded)
	if sum := aws.ToString(d.Output.ExecutionResult.ExternalExecutionSummary); sum != "finished after step-2" {
		t.Errorf("summary = %q, want the second invocation's", sum)
	}
	if tok := d.Output.OutputVariables["Token"]; tok != "step-2" {
		t.Errorf("output variables = %v", d.Output.OutputVariables)
	}

	// Two invocations, the second with the token, each with its own job
	// and credentials, in the event shape of codepipeline.md §6.2.
	var events [2]map[string]any
	for i := range events {
		raw, err := os.ReadFile(filepath.Join(dir, "event-"+string(rune('0'+i))+".json"))
		if err != nil {
			t.Fatalf("invocation %d: %v", i+1, err)
		}
		if err := json.Unmarshal(raw, &events[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "event-2.json")); err == nil {
		t.Error("the function was invoked three times")
	}
	job := func(i int) map[string]any { return events[i]["CodePipeline.job"].(map[string]any) }
	data := func(i int) map[string]any { return job(i)["data"].(map[string]any) }
	if len(events[0]) != 1 || job(0)["accountId"] != b.srv.AccountID() || job(0)["id"] == job(1)["id"] {
		t.Errorf("event envelope: %s / %s", dump(events[0]), dump(job(1)["id"]))
	}
	if _, ok := data(0)["continuationToken"]; ok {
		t.Errorf("the first event has a continuationToken: %v", data(0)["continuationToken"])
	}
	if tok := data(1)["continuationToken"]; tok != "step-2" {
		t.Errorf("second event's continuationToken = %v", tok)
	}
	cfg := data(0)["actionConfiguration"].(map[string]any)["configuration"].(map[string]any)
	if cfg["FunctionName"] != "stepper" || cfg["UserParameters"] != `{"stack":"MyTestStack"}` {
		t.Errorf("configuration = %v", cfg)
	}
	in := data(0)["inputArtifacts"].([]any)
	if len(in) != 1 {
		t.Fatalf("inputArtifacts = %s", dump(in))
	}
	a := in[0].(map[string]any)
	loc := a["location"].(map[string]any)
	if a["name"] != "App" || loc["type"] != "S3" || loc["s3Location"].(map[string]any)["bucketName"] == "" || a["revision"] == nil {
		t.Errorf("input artifact = %s", dump(a))
	}
	out := data(0)["outputArtifacts"].([]any)
	if len(out) != 1 || out[0].(map[string]any)["revision"] != nil || out[0].(map[string]any)["name"] != "Out" {
		t.Errorf("output artifacts = %s", dump(out))
	}
	creds := data(0)["artifactCredentials"].(map[string]any)
	id, _ := creds["accessKeyId"].(string)
	secret, _ := creds["secretAccessKey"].(string)
	token, _ := creds["sessionToken"].(string)
	if !strings.HasPrefix(id, "ASIA") || secret == "" || token == "" {
		t.Errorf("artifactCredentials = %v", creds)
	}
	// The credentials die with the invocation (which may end a little
	// after the function reported and the pipeline went on).
	c := codepipeline.New(codepipeline.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, token)})
	var err error
	eventually(t, "the first invocation's credentials to be revoked", func() (bool, string) {
		_, err = c.GetJobDetails(context.Background(), &codepipeline.GetJobDetailsInput{JobId: aws.String(job(0)["id"].(string))})
		return err != nil, errString(err)
	})
	wantAPIError(t, err, "UnrecognizedClientException", "invalid")

	// A function that reports, then fails its invocation: the report
	// stands.
	helperFunction(t, ext, "reporter", "fail-then-exit", t.TempDir())
	d = runLambda(t, b, lambdaPipeline("Reported", "reporter", ""), types.PipelineExecutionStatusFailed)
	if msg := errorMessage(d); msg != "reported by the function" {
		t.Errorf("failure message = %q, want the function's", msg)
	}
}

func TestLambdaURLFunction(t *testing.T) {
	t.Parallel()
	b, ext := functionBundle(t)
	ctx := context.Background()
	// An endpoint that accepts the event (202) and reports later, as an
	// asynchronous function does; path /broken answers 500 without
	// reporting.
	reported := make(chan error, 4)
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken" {
			http.Error(w, "function crashed", http.StatusInternalServerError)
			return
		}
		var ev struct {
			Job struct {
				ID   string `json:"id"`
				Data struct {
					ArtifactCredentials struct {
						AccessKeyID     string `json:"accessKeyId"`
						SecretAccessKey string `json:"secretAccessKey"`
						SessionToken    string `json:"sessionToken"`
					} `json:"artifactCredentials"`
				} `json:"data"`
			} `json:"CodePipeline.job"`
		}
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		endpoint := r.Header.Get("X-Slipway-Endpoint")
		w.WriteHeader(http.StatusAccepted)
		go func() {
			time.Sleep(200 * time.Millisecond)
			cr := ev.Job.Data.ArtifactCredentials
			c := codepipeline.New(codepipeline.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider(cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken)})
			_, err := c.PutJobSuccessResult(context.Background(), &codepipeline.PutJobSuccessResultInput{JobId: aws.String(ev.Job.ID),
				ExecutionDetails: &types.ExecutionDetails{Summary: aws.String("reported over HTTP")}})
			reported <- err
		}()
	}))
	t.Cleanup(fn.Close)
	for name, url := range map[string]string{"webhook": fn.URL + "/invoke", "broken": fn.URL + "/broken"} {
		if _, err := ext.CreateFunction(ctx, &slipwayapi.CreateFunctionInput{FunctionName: name, URL: url}); err != nil {
			t.Fatalf("CreateFunction %s: %v", name, err)
		}
	}
	d := runLambda(t, b, lambdaPipeline("Hook", "webhook", ""), types.PipelineExecutionStatusSucceeded)
	if err := <-reported; err != nil {
		t.Errorf("the function's report: %v", err)
	}
	if sum := aws.ToString(d.Output.ExecutionResult.ExternalExecutionSummary); sum != "reported over HTTP" {
		t.Errorf("summary = %q", sum)
	}
	d = runLambda(t, b, lambdaPipeline("Broken", "broken", ""), types.PipelineExecutionStatusFailed)
	if msg := errorMessage(d); !strings.Contains(msg, "answered HTTP 500") || !strings.Contains(msg, "function crashed") {
		t.Errorf("failure message = %q", msg)
	}
}

func TestFunctionsAPI(t *testing.T) {
	t.Parallel()
	b := start(t, "", nil)
	ext := extClient(t, b)
	ctx := context.Background()
	created, err := ext.CreateFunction(ctx, &slipwayapi.CreateFunctionInput{FunctionName: "build-notify", Command: []string{"/usr/bin/notify", "--fast"},
		Environment: map[string]string{"CHANNEL": "#ci"}})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	f := created.Function
	if f.FunctionName != "build-notify" || f.TimeoutSeconds != slipwayapi.DefaultFunctionTimeout || f.Created == nil || f.Environment["CHANNEL"] != "#ci" {
		t.Errorf("created %s", dump(f))
	}
	if _, err := ext.CreateFunction(ctx, &slipwayapi.CreateFunctionInput{FunctionName: "hook", URL: "https://hooks.example.com/fn", TimeoutSeconds: 900}); err != nil {
		t.Fatalf("CreateFunction url: %v", err)
	}
	_, err = ext.CreateFunction(ctx, &slipwayapi.CreateFunctionInput{FunctionName: "hook", URL: "https://hooks.example.com/fn"})
	wantExtError(t, err, slipwayapi.ResourceConflictException, "already exists")
	for _, tc := range []struct {
		in       slipwayapi.CreateFunctionInput
		contains string
	}{
		{slipwayapi.CreateFunctionInput{FunctionName: "x"}, "either command or url"},
		{slipwayapi.CreateFunctionInput{FunctionName: "x", Command: []string{"a"}, URL: "http://h/"}, "either command or url"},
		{slipwayapi.CreateFunctionInput{FunctionName: "bad name", Command: []string{"a"}}, "functionName"},
		{slipwayapi.CreateFunctionInput{FunctionName: "x", URL: "ftp://h/"}, "http:// or https://"},
		{slipwayapi.CreateFunctionInput{FunctionName: "x", Command: []string{"a"}, TimeoutSeconds: 901}, "timeoutSeconds"},
		{slipwayapi.CreateFunctionInput{FunctionName: "x", Command: []string{"a"}, Environment: map[string]string{"AWS_SESSION_TOKEN": "t"}}, "reserved"},
		{slipwayapi.CreateFunctionInput{FunctionName: "x", Command: []string{"a"}, Environment: map[string]string{"SLIPWAY_X": "t"}}, "reserved"},
		{slipwayapi.CreateFunctionInput{FunctionName: "x", Command: []string{""}}, "command[0]"},
	} {
		_, err := ext.CreateFunction(ctx, &tc.in)
		wantExtError(t, err, "ValidationException", tc.contains)
	}
	got, err := ext.GetFunction(ctx, &slipwayapi.GetFunctionInput{FunctionName: "hook"})
	if err != nil {
		t.Fatalf("GetFunction: %v", err)
	}
	if got.Function.URL != "https://hooks.example.com/fn" || got.Function.TimeoutSeconds != 900 || len(got.Function.Command) != 0 {
		t.Errorf("GetFunction = %s", dump(got.Function))
	}
	list, err := ext.ListFunctions(ctx, nil)
	if err != nil {
		t.Fatalf("ListFunctions: %v", err)
	}
	if len(list.Functions) != 2 || list.Functions[0].FunctionName != "build-notify" || list.Functions[1].FunctionName != "hook" {
		t.Errorf("ListFunctions = %s", dump(list.Functions))
	}
	if _, err := ext.DeleteFunction(ctx, &slipwayapi.DeleteFunctionInput{FunctionName: "hook"}); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	_, err = ext.GetFunction(ctx, &slipwayapi.GetFunctionInput{FunctionName: "hook"})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, "CreateFunction")
	_, err = ext.DeleteFunction(ctx, &slipwayapi.DeleteFunctionInput{FunctionName: "hook"})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, "hook")
}

// dump renders v as JSON for failure messages.
func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
