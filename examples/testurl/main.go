// Command testurl is a Slipway function: the AWS CodePipeline user guide's
// "test a URL" sample Lambda function (Node.js), ported to Go. A Lambda
// invoke action runs it with the URL to test as its UserParameters:
//
//	{"FunctionName": "testurl", "UserParameters": "http://192.0.2.4"}
//
// after registering it with the extension API:
//
//	CreateFunction {"functionName": "testurl", "command": ["/usr/local/bin/testurl"], "timeoutSeconds": 20}
//
// It reads the CodePipeline.job event from SLIPWAY_EVENT (or, when that is
// unset, from standard input), GETs the URL and reports the job's result
// with the aws-sdk-go-v2 codepipeline client: PutJobSuccessResult with the
// summary "Tests passed." when the page answers 200 and contains
// "Congratulations", else PutJobFailureResult (type JobFailed) with what
// went wrong. The client takes its credentials from the environment the
// server sets (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN:
// the job's own temporary credentials) and calls SLIPWAY_ENDPOINT.
//
// Differences from the sample: it accepts https:// URLs, as its message
// says (the sample only looked for "http://"); failure messages are plain
// text rather than JSON.stringify'd values; the success summary is sent
// with PutJobSuccessResult (the sample only returned it to Lambda); and
// the invocation ID (SLIPWAY_INVOCATION_ID) stands in for Lambda's
// context.invokeid. As the sample's context.fail does, it exits with
// status 1 after reporting a failure, and when a report itself fails.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// event is the part of the CodePipeline.job event the function reads.
type event struct {
	Job struct {
		ID   string `json:"id"`
		Data struct {
			ActionConfiguration struct {
				Configuration map[string]string `json:"configuration"`
			} `json:"actionConfiguration"`
		} `json:"data"`
	} `json:"CodePipeline.job"`
}

// invalidURL is the sample's message for a missing or malformed URL.
const invalidURL = "The UserParameters field must contain a valid URL address to test, including http:// or https://"

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "testurl:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	raw := []byte(os.Getenv("SLIPWAY_EVENT"))
	if len(raw) == 0 {
		var err error
		if raw, err = io.ReadAll(os.Stdin); err != nil {
			return fmt.Errorf("read the event: %w", err)
		}
	}
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Job.ID == "" {
		return fmt.Errorf("the input is not a CodePipeline.job event (%v)", err)
	}
	jobID := ev.Job.ID
	url := ev.Job.Data.ActionConfiguration.Configuration["UserParameters"]

	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load the AWS configuration: %w", err)
	}
	client := codepipeline.NewFromConfig(cfg, func(o *codepipeline.Options) {
		if ep := os.Getenv("SLIPWAY_ENDPOINT"); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})

	// putJobFailure reports the failure, then fails the invocation (the
	// sample's context.fail).
	putJobFailure := func(message string) error {
		_, err := client.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{
			JobId: aws.String(jobID),
			FailureDetails: &types.FailureDetails{Message: aws.String(message), Type: types.FailureTypeJobFailed,
				ExternalExecutionId: nonEmpty(os.Getenv("SLIPWAY_INVOCATION_ID"))},
		})
		if err != nil {
			return fmt.Errorf("PutJobFailureResult: %w", err)
		}
		return errors.New(message)
	}

	if url == "" || !(strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")) {
		return putJobFailure(invalidURL)
	}
	if msg := testPage(ctx, url); msg != "" {
		return putJobFailure(msg)
	}
	if _, err := client.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{
		JobId: aws.String(jobID), ExecutionDetails: &types.ExecutionDetails{Summary: aws.String("Tests passed.")},
	}); err != nil {
		return fmt.Errorf("PutJobSuccessResult: %w", err)
	}
	fmt.Println("Tests passed.")
	return nil
}

// testPage GETs url and returns what is wrong with the page, or "" when it
// answers 200 and contains "Congratulations".
func testPage(ctx context.Context, url string) string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	switch {
	case err != nil:
		return "reading the page: " + err.Error()
	case resp.StatusCode != http.StatusOK:
		return fmt.Sprintf("The page answered HTTP status %d, not 200", resp.StatusCode)
	case !strings.Contains(string(body), "Congratulations"):
		return `The page does not contain "Congratulations"`
	}
	return ""
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
