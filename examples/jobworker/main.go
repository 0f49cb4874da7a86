// Command jobworker is an example custom job worker for Slipway (or AWS
// CodePipeline), written with the aws-sdk-go-v2 codepipeline client.
//
// It polls for jobs of one custom action type, acknowledges each with its
// nonce and reports the result. To show long-running work, it answers a
// job's first attempt with a continuation token, which makes the pipeline
// queue a new job for the same action; the job that carries the token is
// reported as done, with an output variable.
//
//	jobworker -endpoint http://127.0.0.1:7700 -category Build -provider MyBuild
//
// Credentials and region come from the usual AWS environment
// (AWS_SHARED_CREDENTIALS_FILE=slipway-data/credentials, AWS_CONFIG_FILE=...).
// With -once it handles at most one job and exits; -log appends a line
// "<job id> <action> <step>" per acknowledged job to a file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/smithy-go"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:7700", "Slipway server URL")
	category := flag.String("category", "Build", "action category of the custom action type")
	provider := flag.String("provider", "", "provider of the custom action type")
	version := flag.String("version", "1", "version of the custom action type")
	once := flag.Bool("once", false, "handle at most one job, then exit")
	poll := flag.Duration("poll", 200*time.Millisecond, "pause between polls that found no job")
	logPath := flag.String("log", "", "append a line per acknowledged job to this file")
	flag.Parse()
	if *provider == "" {
		log.Fatal("jobworker: -provider is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatalf("jobworker: load AWS config: %v", err)
	}
	w := &worker{
		client: codepipeline.NewFromConfig(cfg, func(o *codepipeline.Options) { o.BaseEndpoint = aws.String(*endpoint) }),
		typ:    &types.ActionTypeId{Category: types.ActionCategory(*category), Owner: types.ActionOwnerCustom, Provider: provider, Version: version},
	}
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			log.Fatalf("jobworker: %v", err)
		}
		defer f.Close()
		w.journal = f
	}
	for ctx.Err() == nil {
		handled, err := w.handleOne(ctx)
		if err != nil && ctx.Err() == nil {
			log.Printf("jobworker: %v", err)
		}
		if *once {
			if err != nil {
				os.Exit(1)
			}
			if !handled {
				os.Exit(3) // no job was waiting
			}
			return
		}
		if !handled {
			select {
			case <-ctx.Done():
			case <-time.After(*poll):
			}
		}
	}
}

type worker struct {
	client  *codepipeline.Client
	typ     *types.ActionTypeId
	journal *os.File
}

// handleOne polls for one job and works it; it reports whether a job was
// found.
func (w *worker) handleOne(ctx context.Context) (bool, error) {
	out, err := w.client.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: w.typ, MaxBatchSize: aws.Int32(1)})
	if err != nil {
		return false, fmt.Errorf("poll: %w", err)
	}
	if len(out.Jobs) == 0 {
		return false, nil
	}
	job := out.Jobs[0]
	var ack *codepipeline.AcknowledgeJobOutput
	err = retry(ctx, func() (err error) {
		ack, err = w.client.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: job.Id, Nonce: job.Nonce})
		return err
	})
	var nonceErr *types.InvalidNonceException
	if errors.As(err, &nonceErr) {
		return true, nil // another worker has it
	}
	if err != nil {
		return true, fmt.Errorf("acknowledge %s: %w", aws.ToString(job.Id), err)
	}
	if ack.Status != types.JobStatusInProgress {
		return true, nil
	}
	action := aws.ToString(job.Data.PipelineContext.Action.Name)
	step := "start"
	if job.Data.ContinuationToken != nil {
		step = "finish"
	}
	if w.journal != nil {
		fmt.Fprintf(w.journal, "%s %s %s\n", aws.ToString(job.Id), action, step)
	}
	execID := aws.ToString(job.Data.PipelineContext.PipelineExecutionId)
	var in *codepipeline.PutJobSuccessResultInput
	if step == "start" {
		// The first half of the work: report progress and ask to be called again.
		in = &codepipeline.PutJobSuccessResultInput{
			JobId:             job.Id,
			ContinuationToken: aws.String("step-2"),
			ExecutionDetails: &types.ExecutionDetails{
				Summary: aws.String("half done"), ExternalExecutionId: aws.String("run-" + execID[:8]), PercentComplete: aws.Int32(50),
			},
		}
	} else {
		in = &codepipeline.PutJobSuccessResultInput{
			JobId: job.Id,
			ExecutionDetails: &types.ExecutionDetails{
				Summary: aws.String("built by jobworker"), ExternalExecutionId: aws.String("run-" + execID[:8]), PercentComplete: aws.Int32(100),
			},
			OutputVariables: map[string]string{"BuiltBy": "jobworker", "Token": aws.ToString(job.Data.ContinuationToken)},
		}
	}
	err = retry(ctx, func() error { _, err := w.client.PutJobSuccessResult(ctx, in); return err })
	if err != nil {
		return true, fmt.Errorf("report %s: %w", aws.ToString(job.Id), err)
	}
	return true, nil
}

// retry calls fn until it succeeds, fails with an API error (the server
// answered), or a minute has passed: a result must not be lost because the
// server restarted.
func retry(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := fn()
		var apiErr smithy.APIError
		if err == nil || errors.As(err, &apiErr) || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}
