// Package demo shows the whole product on one machine: it runs a server
// with embedded workers, a hosted git repository holding a small web app,
// two host agents registered as on-premises instances, a CodeDeploy
// application and the pipeline demo (Source → Build → Approve → Deploy),
// and pushes a commit so that the pipeline runs. Everything talks over the
// server's real HTTP APIs, as separate machines would.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/server"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// Names of what the demo creates.
const (
	PipelineName        = "demo"
	RepositoryName      = "demo-app"
	Branch              = "main"
	BuildProjectName    = "demo-app"
	ApplicationName     = "demo-app"
	DeploymentGroupName = "demo-fleet"
	ApprovalStage       = "Approve"
	ApprovalAction      = "Approval"
	TagKey, TagValue    = "env", "demo"
)

// InstanceNames are the on-premises instances the demo's agents run as.
var InstanceNames = []string{"demo-1", "demo-2"}

// Defaults of Config.
const (
	DefaultDataDir = "slipway-demo"
	DefaultListen  = "127.0.0.1:7700"
)

// Config configures a demo. Zero values mean the defaults.
type Config struct {
	// DataDir holds the server's data (as slipway server --data-dir) and,
	// under demo/, the agents' directories and the logs.
	DataDir string
	// Listen is the server's address.
	Listen string
	// Stdout receives the instructions and the pipeline's progress;
	// default os.Stdout.
	Stdout io.Writer
	// Command is how the printed instructions invoke slipway; default
	// SelfCommand().
	Command string
	// SweepInterval is the server's timer period (slipway server
	// --sweep-interval); 0 means its default.
	SweepInterval time.Duration
}

// Agent is one of the demo's host agents.
type Agent struct {
	Name string
	// Dir holds agent.yml, root/ (the deployment root), install/ (where
	// AppSpec destinations land) and log/.
	Dir string
	// RootDir is the agent's deployment root.
	RootDir string
	// InstallDir is prefixed to every AppSpec destination: the app is
	// installed in InstallDir/srv/demo-app.
	InstallDir string
	// Config is the agent's configuration file.
	Config string
}

// Demo is a running demo.
type Demo struct {
	// Endpoint is the server's URL (http://<address>).
	Endpoint string
	// DataDir is the data directory as configured; AbsDataDir its
	// absolute path.
	DataDir, AbsDataDir string
	// CloneURL is the hosted repository's clone URL.
	CloneURL string
	// Commit and Release are what this start pushed.
	Commit, Release string
	// FirstRun reports whether this start created the pipeline.
	FirstRun bool
	// Agents are the running agents.
	Agents []Agent
	// Credentials is the server's admin key.
	Credentials aws.Credentials
	// Region is the server's region.
	Region string

	cfg           Config
	waitingBehind string   // an earlier execution waiting for approval
	abandoned     []string // executions an earlier run left mid-action
	eventsFrom    int64    // the last event before this start's push
	accountID     string
	cp            *codepipeline.Client
	cd            *codedeploy.Client
	ext           *slipwayapi.Client
	stopOnce      sync.Once
	stopErr       error
	cleanups      []func() error // run in reverse order by Stop
	serveErr      chan error     // the server's Serve result
}

// Start starts the server and the agents, creates what does not exist yet
// and pushes a commit (the sample app on a first start, the next release
// afterwards). Stop stops everything.
func Start(ctx context.Context, cfg Config) (_ *Demo, err error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Command == "" {
		cfg.Command = SelfCommand()
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("--data-dir: %w", err)
	}
	d := &Demo{DataDir: cfg.DataDir, AbsDataDir: abs, cfg: cfg, serveErr: make(chan error, 1)}
	defer func() {
		if err != nil {
			_ = d.Stop()
		}
	}()
	if err := os.MkdirAll(d.demoDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", d.demoDir(), err)
	}
	if err := d.startServer(ctx); err != nil {
		return nil, err
	}
	if err := d.setUp(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// demoDir is <data-dir>/demo.
func (d *Demo) demoDir() string { return filepath.Join(d.AbsDataDir, "demo") }

// ServerLog is the server's log file.
func (d *Demo) ServerLog() string { return filepath.Join(d.demoDir(), "server.log") }

func (d *Demo) startServer(ctx context.Context) error {
	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w; give a free host:port with --listen, e.g. --listen 127.0.0.1:7701", d.cfg.Listen, err)
	}
	addr := ln.Addr().String()
	d.Endpoint = "http://" + addr
	logFile, err := os.OpenFile(d.ServerLog(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		ln.Close()
		return fmt.Errorf("open the server log: %w", err)
	}
	d.cleanups = append(d.cleanups, logFile.Close)
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// As `slipway server --listen ADDR --data-dir DIR`: embedded workers,
	// the public URL http://<listen>.
	srv, err := server.New(ctx, server.Config{
		Listen:  addr,
		DataDir: d.AbsDataDir,
		Engine:  engine.Config{ConsoleURL: d.Endpoint, SweepInterval: d.cfg.SweepInterval},
		Logger:  logger,
		Stdout:  io.Discard, // the demo prints its own instructions
	})
	if err != nil {
		ln.Close()
		return err
	}
	d.accountID = srv.AccountID()
	srvCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	go func() { d.serveErr <- srv.Serve(srvCtx, ln) }()
	d.cleanups = append(d.cleanups, func() error {
		stopServer()
		err := <-d.serveErr
		d.serveErr <- err // for Run, which may be reading it too
		return err
	})

	credPath := filepath.Join(d.AbsDataDir, "credentials")
	id, secret, region, err := auth.ReadCredentialsFile(credPath, "default")
	if err != nil {
		return fmt.Errorf("read the admin key: %w", err)
	}
	if region == "" {
		region = "us-east-1"
	}
	d.Credentials = aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}
	d.Region = region
	provider := credentials.StaticCredentialsProvider{Value: d.Credentials}
	d.cp = codepipeline.New(codepipeline.Options{Region: region, BaseEndpoint: aws.String(d.Endpoint), Credentials: provider})
	d.cd = codedeploy.New(codedeploy.Options{Region: region, BaseEndpoint: aws.String(d.Endpoint), Credentials: provider})
	d.ext = slipwayapi.New(d.Endpoint, region, provider)
	return nil
}

// Stop stops the agents (each lets the command it runs finish and
// reports it) and then the server, gracefully.
func (d *Demo) Stop() error {
	d.stopOnce.Do(func() {
		var errs []error
		for i := len(d.cleanups) - 1; i >= 0; i-- {
			if err := d.cleanups[i](); err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, err)
			}
		}
		d.stopErr = errors.Join(errs...)
	})
	return d.stopErr
}

// Run starts the demo, prints what to try, follows the pipeline until ctx
// ends (Ctrl-C) and then stops everything.
func Run(ctx context.Context, cfg Config) error {
	d, err := Start(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted while setting up: %w", err)
		}
		return err
	}
	fmt.Fprint(d.cfg.Stdout, d.Instructions())
	follow := &follower{d: d, w: d.cfg.Stdout, afterID: d.eventsFrom}
	followCtx, stopFollow := context.WithCancel(ctx)
	followDone := make(chan struct{})
	go func() { defer close(followDone); follow.run(followCtx) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-d.serveErr:
		d.serveErr <- serveErr
	}
	stopFollow()
	<-followDone
	fmt.Fprintln(d.cfg.Stdout, "\nStopping the agents and the server...")
	if err := d.Stop(); err != nil {
		return err
	}
	if serveErr != nil {
		return serveErr
	}
	fmt.Fprintf(d.cfg.Stdout, "Stopped. Run it again to pick up where it left off (the state is in %s).\n", d.DataDir)
	return nil
}
