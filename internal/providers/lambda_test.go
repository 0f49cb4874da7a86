package providers

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/worker"
)

func TestFunctionName(t *testing.T) {
	for in, want := range map[string]string{
		"MyLambdaFunctionForAWSCodePipeline": "MyLambdaFunctionForAWSCodePipeline",
		"my-function:v1":                     "my-function",
		"arn:aws:lambda:us-east-1:123456789012:function:my-function":      "my-function",
		"arn:aws:lambda:us-east-1:123456789012:function:my-function:PROD": "my-function",
		"123456789012:function:my-function":                               "my-function",
	} {
		if got := functionName(in); got != want {
			t.Errorf("functionName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLambdaEvent pins the event's JSON: the shape of codepipeline.md §6.2
// (key names, null revisions, empty lists as []), plus the GetJobDetails
// members.
func TestLambdaEvent(t *testing.T) {
	j := &worker.Job{ID: "11111111-abcd-1111-abcd-111111abcdef", Data: &cpapi.JobData{
		ActionTypeId: &cpapi.ActionTypeId{Category: "Invoke", Owner: "AWS", Provider: "Lambda", Version: "1"},
		ActionConfiguration: &cpapi.ActionConfiguration{Configuration: map[string]string{
			"FunctionName": "MyLambdaFunctionForAWSCodePipeline", "UserParameters": "some-input-such-as-a-URL"}},
		InputArtifacts: []cpapi.Artifact{{Name: "ArtifactName", Location: &cpapi.ArtifactLocation{Type: "S3",
			S3Location: &cpapi.S3ArtifactLocation{BucketName: "codepipeline-us-east-1-1234567890", ObjectKey: "CodePipelineDemoApplication.zip"}}}},
		PipelineContext: &cpapi.PipelineContext{PipelineName: "MyLambdaTestPipeline"},
	}}
	creds := cpapi.AWSSessionCredentials{AccessKeyId: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token"}
	b, err := json.Marshal(newLambdaEvent(j, "111111111111", creds))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"CodePipeline.job":{"id":"11111111-abcd-1111-abcd-111111abcdef","accountId":"111111111111","data":{` +
		`"actionConfiguration":{"configuration":{"FunctionName":"MyLambdaFunctionForAWSCodePipeline","UserParameters":"some-input-such-as-a-URL"}},` +
		`"inputArtifacts":[{"location":{"s3Location":{"bucketName":"codepipeline-us-east-1-1234567890","objectKey":"CodePipelineDemoApplication.zip"},"type":"S3"},"revision":null,"name":"ArtifactName"}],` +
		`"outputArtifacts":[],` +
		`"artifactCredentials":{"accessKeyId":"ASIAEXAMPLE","secretAccessKey":"secret","sessionToken":"token"},` +
		`"actionTypeId":{"category":"Invoke","owner":"AWS","provider":"Lambda","version":"1"},` +
		`"pipelineContext":{"pipelineName":"MyLambdaTestPipeline"}}}}`
	if string(b) != want {
		t.Errorf("event:\n got  %s\n want %s", b, want)
	}

	j.Data.ContinuationToken = "A continuation token if continuing job"
	j.Data.InputArtifacts[0].Revision = "v1"
	b, _ = json.Marshal(newLambdaEvent(j, "111111111111", creds))
	for _, s := range []string{`"revision":"v1"`, `"continuationToken":"A continuation token if continuing job"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("event %s lacks %s", b, s)
		}
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 5}
	tb.Write([]byte("abc"))
	tb.Write([]byte("defgh\n"))
	if got := tb.quote(); got != ": efgh" {
		t.Errorf("quote = %q", got)
	}
	if got := (&tailBuffer{max: 5}).quote(); got != "" {
		t.Errorf("empty quote = %q", got)
	}
}
