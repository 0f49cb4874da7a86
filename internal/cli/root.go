// Package cli is the slipway command line: the server, the worker, the
// demo, and the commands people use to drive pipelines and deployments.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/codepipeline"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/server"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// Execute runs the slipway command with os.Args and returns the exit code.
func Execute() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := NewRootCommand(os.Stdout, os.Stderr)
	return exitCode(cmd.ExecuteContext(ctx), os.Stderr)
}

// NewRootCommand returns the slipway command tree writing to stdout and stderr.
func NewRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "slipway",
		Short:         "Self-hosted release pipelines and deployments with the AWS CodePipeline and CodeDeploy APIs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServerCommand(stdout, stderr))
	root.AddCommand(newRepoCommand(stdout))
	root.AddCommand(newInstanceCommand(stdout))
	root.AddCommand(newDeployCommand(stdout))
	root.AddCommand(newWorkerCommand(stderr))
	root.AddCommand(newDemoCommand(stdout))
	root.PersistentFlags().StringP("output", "o", formatTable, "output format: table, or json for scripts (the API's response shapes)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newPipelineCommand(stdout, stderr))
	root.AddCommand(newFunctionCommand(stdout), newBuildProjectCommand(stdout), newNotificationTargetCommand(stdout))
	for _, c := range root.Commands() {
		if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
			groupCommand(c)
		}
	}
	return root
}

func newServerCommand(stdout, stderr io.Writer) *cobra.Command {
	var cfg server.Config
	var s3Endpoint, s3Region string
	var workers int
	var logLevel, workerLabels string
	lim := codepipeline.DefaultLimits()
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Slipway server",
		Long: `Run the Slipway server: the CodePipeline and CodeDeploy APIs on one address,
with all state under --data-dir (an embedded SQLite database by default).
On first start it creates an admin access key in <data-dir>/credentials.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level %q: use debug, info, warn or error", logLevel)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
			cfg.Stdout = stdout
			cfg.Limits = lim
			if cfg.Engine.ConsoleURL == "" {
				cfg.Engine.ConsoleURL = "http://" + cfg.Listen
			}
			if s3Endpoint != "" {
				cfg.ArtifactS3 = &artifact.S3Config{Endpoint: s3Endpoint, Region: s3Region,
					AccessKeyID: os.Getenv("SLIPWAY_S3_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("SLIPWAY_S3_SECRET_ACCESS_KEY")}
			}
			labels, err := slipwayapi.ParseWorkerLabels(workerLabels)
			if err != nil {
				return fmt.Errorf("--worker-labels: %w", err)
			}
			cfg.WorkerLabels = labels
			cfg.Workers = workers
			if workers == 0 {
				cfg.Workers = -1 // Config's zero value means the default
			}
			srv, err := server.New(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return srv.ListenAndServe(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:7700", "address to listen on")
	f.StringVar(&cfg.DataDir, "data-dir", "slipway-data", "directory for the database, master key and credentials, and for artifacts and git repositories unless --shared-dir")
	f.StringVar(&cfg.SharedDir, "shared-dir", "", "directory every server of one database shares (hosted git repositories, filesystem artifacts); default --data-dir")
	f.StringVar(&cfg.Database, "database", "", "database DSN (default: SQLite file in --data-dir)")
	f.StringVar(&cfg.Region, "region", "us-east-1", "region reported in ARNs and expected in request signatures")
	f.StringVar(&s3Endpoint, "artifact-s3-endpoint", "", "keep artifacts on this S3-compatible server (credentials from SLIPWAY_S3_ACCESS_KEY_ID and SLIPWAY_S3_SECRET_ACCESS_KEY)")
	f.StringVar(&s3Region, "artifact-s3-region", "us-east-1", "region of the S3-compatible server")
	f.StringVar(&cfg.ArtifactBucket, "artifact-s3-bucket", "", "the bucket that holds every artifact (must exist)")
	f.StringVar(&logLevel, "log-level", "info", "log level: "+strings.Join([]string{"debug", "info", "warn", "error"}, ", "))
	f.IntVar(&lim.Pipelines, "max-pipelines", lim.Pipelines, "most pipelines the account may have")
	f.IntVar(&lim.CustomActionTypes, "max-custom-action-types", lim.CustomActionTypes, "most custom action types the account may have")
	f.DurationVar(&cfg.Engine.JobTimeout, "job-timeout", time.Hour, "how long an acknowledged job may run without a result")
	f.Var(&typeTimeouts{m: &cfg.Engine.TypeTimeouts}, "type-job-timeout",
		"job timeout of one action type, as Category/Owner/Provider/Version=DURATION (e.g. Build/Custom/MyBuild/1=30m); repeatable; overrides --job-timeout for that type")
	f.DurationVar(&cfg.Engine.DispatchLease, "dispatch-lease", time.Minute, "how long a polled job waits for AcknowledgeJob before it is offered again")
	f.DurationVar(&cfg.Engine.HeartbeatLease, "heartbeat-lease", time.Minute, "how long a worker's heartbeat keeps its job claimed; a worker that stops heartbeating loses the job this long after its last heartbeat")
	f.DurationVar(&cfg.Engine.ApprovalTimeout, "approval-timeout", 7*24*time.Hour, "how long a manual approval waits for an answer")
	f.DurationVar(&cfg.Engine.SweepInterval, "sweep-interval", time.Second, "how often timers are checked and active executions reconciled")
	f.IntVar(&workers, "workers", 4, "how many jobs of built-in actions the embedded workers run at once (0: no embedded workers)")
	f.StringVar(&workerLabels, "worker-labels", "", "labels of the embedded workers, comma-separated: builds whose project has WorkerLabels run only on workers with all of them (default none)")
	f.DurationVar(&cfg.SourcePoll, "source-poll-interval", time.Minute, "how often the git remotes of connection sources are checked for new commits (negative: never)")
	f.DurationVar(&cfg.S3Poll, "s3-poll-interval", time.Minute, "how often the objects of S3 source actions are checked for new versions (negative: never)")
	f.DurationVar(&cfg.Deploy.AgentLease, "agent-lease", 30*time.Second, "how long an instance's agent may go without polling while one of its lifecycle events runs before the event fails with AGENT_ISSUE")
	f.StringVar(&cfg.Engine.ConsoleURL, "public-url", "", "the server's public base URL for links in notifications (default http://<listen>)")
	return cmd
}

// typeTimeouts is the repeatable --type-job-timeout flag: each value is
// Category/Owner/Provider/Version=DURATION and sets one entry of
// engine.Config.TypeTimeouts (a later value for the same type wins).
type typeTimeouts struct{ m *map[string]time.Duration }

func (f *typeTimeouts) String() string {
	if f.m == nil || len(*f.m) == 0 {
		return ""
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(*f.m)) {
		out = append(out, k+"="+(*f.m)[k].String())
	}
	return strings.Join(out, ",")
}

func (f *typeTimeouts) Set(s string) error {
	key, d, err := engine.ParseTypeTimeout(s)
	if err != nil {
		return err
	}
	if *f.m == nil {
		*f.m = map[string]time.Duration{}
	}
	(*f.m)[key] = d
	return nil
}

func (f *typeTimeouts) Type() string { return "type=duration" }
