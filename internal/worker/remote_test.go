package worker

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// fakeAPI answers the job operations and records each request's body by
// operation.
type fakeAPI struct {
	mu   sync.Mutex
	reqs map[string]map[string]any
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndex(target, ".")+1:]
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	f.mu.Lock()
	f.reqs[op] = in
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op {
	case "PollForJobs":
		io.WriteString(w, `{"jobs":[{"id":"job-1","nonce":"n-1","accountId":"123456789012","data":{
			"actionTypeId":{"category":"Build","owner":"AWS","provider":"CodeBuild","version":"1"},
			"actionConfiguration":{"configuration":{"ProjectName":"unit"}},
			"inputArtifacts":[{"name":"Code","location":{"type":"S3","s3Location":{"bucketName":"b","objectKey":"k/in.zip"}}}],
			"outputArtifacts":[{"name":"Out","location":{"type":"S3","s3Location":{"bucketName":"b","objectKey":"k/out.zip"}}}],
			"pipelineContext":{"pipelineName":"P","stage":{"name":"Build"},"action":{"name":"Compile","actionExecutionId":"ae-1"},"pipelineExecutionId":"pe-1"}}}]}`)
	case "HeartbeatJob":
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"InvalidNonceException","message":"stale"}`)
	default:
		io.WriteString(w, `{}`)
	}
}

func (f *fakeAPI) req(op string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reqs[op]
}

func TestRemote(t *testing.T) {
	api := &fakeAPI{reqs: map[string]map[string]any{}}
	ts := httptest.NewServer(api)
	defer ts.Close()
	creds := credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")
	r := &Remote{
		CodePipeline: codepipeline.New(codepipeline.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), Credentials: creds, RetryMaxAttempts: 1}),
		API:          slipwayapi.New(ts.URL, "us-east-1", creds),
	}
	ctx := context.Background()
	var src JobSource = r
	if src.Wake() != nil {
		t.Error("Wake is not nil")
	}

	typ := cpapi.ActionTypeId{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "1"}
	jobs, err := r.Poll(ctx, typ, 3)
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if len(jobs) != 1 || jobs[0].ID != "job-1" || jobs[0].Nonce != "n-1" {
		t.Fatalf("Poll = %+v", jobs)
	}
	d := jobs[0].Data
	if d.ActionConfiguration.Configuration["ProjectName"] != "unit" || d.InputArtifacts[0].Location.S3Location.ObjectKey != "k/in.zip" ||
		d.OutputArtifacts[0].Location.S3Location.BucketName != "b" || d.PipelineContext.Action.ActionExecutionId != "ae-1" {
		t.Errorf("job data = %+v, want every field converted", d)
	}
	if in := api.req("PollForJobs"); in["maxBatchSize"] != float64(3) || in["actionTypeId"].(map[string]any)["provider"] != "CodeBuild" {
		t.Errorf("PollForJobs input = %v", in)
	}

	if err := r.Acknowledge(ctx, "job-1", "n-1"); err != nil {
		t.Errorf("Acknowledge: %v", err)
	}
	if in := api.req("AcknowledgeJob"); in["jobId"] != "job-1" || in["nonce"] != "n-1" {
		t.Errorf("AcknowledgeJob input = %v", in)
	}
	err = r.Heartbeat(ctx, "job-1", "n-1")
	if slipwayapi.ErrorCode(err) != "InvalidNonceException" {
		t.Errorf("Heartbeat error = %v, want the server's InvalidNonceException", err)
	}
	if err := r.Log(ctx, "job-1", "n-1", []byte("line\n")); err != nil {
		t.Errorf("Log: %v", err)
	}
	if in := api.req("PutJobLog"); in["jobId"] != "job-1" || in["data"] != "bGluZQo=" {
		t.Errorf("PutJobLog input = %v", in)
	}

	res := &Result{Summary: "Build SUCCEEDED", ExternalExecutionID: "unit:1", OutputVariables: map[string]string{"TAG": "v1"},
		Revision: &cpapi.CurrentRevision{Revision: "r1", ChangeIdentifier: "c1"}, ContinuationToken: "tok"}
	if err := r.Succeed(ctx, "job-1", res); err != nil {
		t.Errorf("Succeed: %v", err)
	}
	in := api.req("PutJobSuccessResult")
	got, _ := json.Marshal(in)
	for _, want := range []string{`"continuationToken":"tok"`, `"externalExecutionId":"unit:1"`, `"summary":"Build SUCCEEDED"`, `"outputVariables":{"TAG":"v1"}`, `"revision":"r1"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("PutJobSuccessResult input %s lacks %s", got, want)
		}
	}
	if err := r.Fail(ctx, "job-1", &Failure{Type: cpapi.FailureTypeConfigurationError, Message: "bad"}); err != nil {
		t.Errorf("Fail: %v", err)
	}
	if fd := api.req("PutJobFailureResult")["failureDetails"].(map[string]any); fd["type"] != "ConfigurationError" || fd["message"] != "bad" {
		t.Errorf("PutJobFailureResult failureDetails = %v", fd)
	}
}

// countSource hands out two jobs per poll until stopped.
type countSource struct{ logSource }

func (s *countSource) Poll(context.Context, cpapi.ActionTypeId, int) ([]*Job, error) {
	return []*Job{{ID: "a"}, {ID: "b"}}, nil
}

func TestDraining(t *testing.T) {
	d := NewDraining(&countSource{})
	ctx := context.Background()
	jobs, _ := d.Poll(ctx, cpapi.ActionTypeId{}, 2)
	d.Stop()
	select {
	case <-d.Idle():
		t.Fatal("idle with two jobs handed out")
	default:
	}
	if more, _ := d.Poll(ctx, cpapi.ActionTypeId{}, 2); len(more) != 0 {
		t.Errorf("Poll after Stop handed out %d jobs", len(more))
	}
	_ = d.Acknowledge(ctx, jobs[0].ID, "")
	_ = d.Succeed(ctx, jobs[0].ID, &Result{})
	select {
	case <-d.Idle():
		t.Fatal("idle with one job running")
	default:
	}
	_ = d.Fail(ctx, jobs[1].ID, &Failure{})
	select {
	case <-d.Idle():
	default:
		t.Fatal("not idle after both jobs ended")
	}
}
