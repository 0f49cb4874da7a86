package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/spf13/cobra"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/providers"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/worker"
)

func newWorkerCommand(stderr io.Writer) *cobra.Command {
	var f apiFlags
	var concurrency int
	var poll, heartbeat, drain time.Duration
	var workDir, artifactDir, s3Endpoint, s3Region, s3Bucket, logLevel, labelList string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run jobs of built-in actions for a server, on this machine",
		Long: `Run jobs of built-in action types (CodeBuild builds and tests, Commands, S3 sources and
deploys) for the server at --endpoint: poll for jobs, run them here, and report their results and
logs over the API. Start the server with --workers 0 to run every build on remote workers.
Builds read their build project, build number and secrets from the server for the job they run.

A build project with workerLabels runs only on a worker that has all of them (--labels); jobs
without required labels go to any worker.

A remote worker reads and writes artifacts directly in the server's artifact store: either the
same S3-compatible bucket (--artifact-s3-endpoint, --artifact-s3-bucket, credentials from
SLIPWAY_S3_ACCESS_KEY_ID and SLIPWAY_S3_SECRET_ACCESS_KEY), or, on the server's machine, the
server's filesystem store (--artifact-dir <server data dir>/artifacts).

On SIGTERM or interrupt it stops claiming jobs, lets running ones finish (at most
--drain-timeout; jobs still running then are left to their lease) and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level %q: use debug, info, warn or error", logLevel)
			}
			logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
			labels, err := slipwayapi.ParseWorkerLabels(labelList)
			if err != nil {
				return fmt.Errorf("--labels: %w", err)
			}
			// cmd.Context() ends at the first SIGTERM or interrupt; the
			// work goes on under its own context until the drain ends.
			signals := cmd.Context()
			ctx := context.WithoutCancel(signals)

			arts, err := workerArtifacts(ctx, artifactDir, s3Endpoint, s3Region, s3Bucket)
			if err != nil {
				return err
			}
			creds, region, from, err := f.credentials(ctx, cmd)
			if err != nil {
				return err
			}
			if region == "" {
				region = "us-east-1"
			}
			provider := credentials.StaticCredentialsProvider{Value: creds}
			api := slipwayapi.New(f.endpoint, region, provider)
			src := &worker.Remote{
				CodePipeline: codepipeline.New(codepipeline.Options{Region: region, BaseEndpoint: aws.String(f.endpoint), Credentials: provider}),
				API:          api,
				Labels:       labels,
			}
			if workDir == "" {
				workDir = filepath.Join(os.TempDir(), "slipway-worker")
			}
			if err := os.MkdirAll(workDir, 0o755); err != nil {
				return fmt.Errorf("--work-dir: %w", err)
			}
			drainer := worker.NewDraining(src)
			w := &worker.Worker{
				Source: drainer,
				Executors: drainer.Wrap(providers.Builtin(providers.Deps{Artifacts: arts, Logger: logger, WorkDir: workDir,
					Builds: &worker.RemoteBuilds{API: api}})),
				Concurrency: concurrency,
				Poll:        poll,
				Heartbeat:   heartbeat,
				Logger:      logger,
			}
			var provs []string
			for _, ex := range w.Executors {
				t := ex.Type()
				provs = append(provs, t.Category+"/"+t.Provider)
			}
			logger.Info("worker started", "endpoint", f.endpoint, "credentials", from, "concurrency", concurrency,
				"labels", strings.Join(labels, ","), "executors", strings.Join(provs, ","))

			// The worker runs under its own context, which ends only when
			// the drain is over: claiming stops at the signal (Draining),
			// running jobs go on until they are reported or the drain
			// timeout cancels them (left to their lease).
			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- w.Run(runCtx) }()
			select {
			case err := <-done:
				return err
			case <-signals.Done():
			}
			logger.Info("stopping: no new jobs; waiting for running jobs", "drain_timeout", drain)
			drainer.Stop()
			timer := time.NewTimer(drain)
			defer timer.Stop()
			select {
			case <-drainer.Idle():
				cancel()
				err := <-done
				logger.Info("worker stopped")
				return err
			case <-timer.C:
				logger.Warn("drain timeout: stopping running jobs (they are left to their lease)")
				cancel()
				return errors.Join(<-done, errors.New("drain timeout: running jobs were stopped and left to their lease"))
			}
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&concurrency, "concurrency", 4, "how many jobs run at once")
	fl.DurationVar(&poll, "poll", time.Second, "pause between polls when idle")
	fl.DurationVar(&heartbeat, "heartbeat", 10*time.Second, "how often a running job's claim is extended (keep it well under the server's heartbeat lease)")
	fl.DurationVar(&drain, "drain-timeout", 5*time.Minute, "on SIGTERM, how long running jobs may take to finish")
	fl.StringVar(&workDir, "work-dir", "", "where builds get their working directories (default <tmp>/slipway-worker)")
	fl.StringVar(&labelList, "labels", "", "labels of this worker, comma-separated (e.g. gpu,linux): builds whose project has workerLabels run only on workers with all of them; jobs without required labels run on any worker")
	fl.StringVar(&artifactDir, "artifact-dir", "", "the server's filesystem artifact store (<server data dir>/artifacts), for a worker on the server's machine")
	fl.StringVar(&s3Endpoint, "artifact-s3-endpoint", "", "the server's S3-compatible artifact store (credentials from SLIPWAY_S3_ACCESS_KEY_ID and SLIPWAY_S3_SECRET_ACCESS_KEY)")
	fl.StringVar(&s3Region, "artifact-s3-region", "us-east-1", "region of the S3-compatible server")
	fl.StringVar(&s3Bucket, "artifact-s3-bucket", "", "the bucket that holds every artifact (the server's --artifact-s3-bucket)")
	fl.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// workerArtifacts opens the server's artifact store as a remote worker
// reaches it: the same S3 bucket (wrapped as the server wraps it), or the
// server's filesystem store on the same machine.
func workerArtifacts(ctx context.Context, dir, endpoint, region, bucket string) (artifact.Store, error) {
	switch {
	case dir != "" && endpoint != "":
		return nil, errors.New("use either --artifact-dir or --artifact-s3-endpoint, not both")
	case dir != "":
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("--artifact-dir: %w", err)
		}
		st, err := artifact.NewFSStore(dir)
		if err != nil {
			return nil, fmt.Errorf("artifact store: %w", err)
		}
		return st, nil
	case endpoint != "":
		if bucket == "" {
			return nil, errors.New("artifact store: an S3 endpoint needs a bucket (--artifact-s3-bucket)")
		}
		cfg := artifact.S3Config{Endpoint: endpoint, Region: region,
			AccessKeyID: os.Getenv("SLIPWAY_S3_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("SLIPWAY_S3_SECRET_ACCESS_KEY")}
		st, err := artifact.NewS3Store(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("artifact store: %w", err)
		}
		if _, err := st.List(ctx, bucket, "slipway-check/"); err != nil {
			return nil, fmt.Errorf("artifact store: bucket %q on %s is not usable: %w", bucket, endpoint, err)
		}
		return &artifact.OneBucket{Store: st, Bucket: bucket}, nil
	}
	return nil, errors.New("no artifact store: pass the server's store as --artifact-s3-endpoint and --artifact-s3-bucket, or --artifact-dir <server data dir>/artifacts on the server's machine")
}
