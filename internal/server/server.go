// Package server assembles a Slipway server: it opens the data directory and
// the store, bootstraps the account and the first access key, and serves the
// AWS JSON APIs and the health endpoint over HTTP until its context ends.
package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/codedeploy"
	"github.com/slipway-cd/slipway/internal/codepipeline"
	"github.com/slipway-cd/slipway/internal/console"
	"github.com/slipway-cd/slipway/internal/deploy"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/extensions"
	"github.com/slipway-cd/slipway/internal/githost"
	"github.com/slipway-cd/slipway/internal/gitsource"
	"github.com/slipway-cd/slipway/internal/hostcmd"
	"github.com/slipway-cd/slipway/internal/notify"
	"github.com/slipway-cd/slipway/internal/providers"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/store"
	"github.com/slipway-cd/slipway/internal/worker"
)

// Config configures a server. Zero values mean the defaults.
type Config struct {
	Listen   string // default 127.0.0.1:7700
	DataDir  string // default ./slipway-data
	Database string // store DSN; default the SQLite file <DataDir>/slipway.db
	Region   string // default us-east-1
	Limits   codepipeline.Limits
	Engine   engine.Config

	// SharedDir holds what every server of one database must share on
	// disk: hosted git repositories (<SharedDir>/git), the filesystem
	// artifact store (<SharedDir>/artifacts) and one marker file per
	// server (<SharedDir>/servers). Default DataDir.
	SharedDir string

	// ArtifactS3, when set, keeps artifacts in the S3-compatible bucket
	// ArtifactBucket instead of under <SharedDir>/artifacts.
	ArtifactS3     *artifact.S3Config
	ArtifactBucket string
	// Workers is how many jobs of built-in action types the embedded
	// workers run at once: 0 means 4, negative means no embedded workers.
	Workers int
	Notify  notify.Config // the approval notifier's timers
	// WorkerLabels are the embedded workers' labels: CodeBuild jobs whose
	// build project has WorkerLabels run only on workers with all of them.
	WorkerLabels []string
	// Deploy tunes the deployment runner (agent lease, long-poll wait).
	Deploy deploy.Config
	// SourcePoll is how often the remotes of connection sources are
	// polled for new commits: 0 means 60 s, negative means never.
	SourcePoll time.Duration
	// S3Poll is how often the objects of S3 source actions are checked
	// for new versions: 0 means 60 s, negative means never.
	S3Poll time.Duration
	// GitRunner runs the git commands of connection sources; nil runs the
	// git binary (tests count commands with it).
	GitRunner gitsource.Runner

	Logger *slog.Logger
	Stdout io.Writer // where first-start instructions are printed; default os.Stdout
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:7700"
	}
	if c.DataDir == "" {
		c.DataDir = "slipway-data"
	}
	if c.SharedDir == "" {
		c.SharedDir = c.DataDir
	}
	if c.Database == "" {
		c.Database = filepath.Join(c.DataDir, "slipway.db")
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	def := codepipeline.DefaultLimits()
	if c.Limits.Pipelines == 0 {
		c.Limits.Pipelines = def.Pipelines
	}
	if c.Limits.CustomActionTypes == 0 {
		c.Limits.CustomActionTypes = def.CustomActionTypes
	}
	if c.Limits.TagsPerResource == 0 {
		c.Limits.TagsPerResource = def.TagsPerResource
	}
	if c.Limits.Structure == (codepipeline.Limits{}).Structure {
		c.Limits.Structure = def.Structure
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
}

// Server is an assembled Slipway server.
type Server struct {
	cfg        Config
	store      store.Store
	handler    http.Handler
	accountID  string
	engine     *engine.Engine
	notifier   *notify.Notifier
	artifacts  artifact.Store
	repos      *githost.Host
	deployer   *deploy.Runner      // runs CodeDeploy deployments
	codeDeploy *codedeploy.Service // the CodeDeploy API (CodeDeploy deploy actions call it)
	sealer     *auth.Sealer        // seals and opens stored secrets (master key)
	jobKeys    *auth.JobKeys       // temporary credentials of function invocations
	listenURL  string              // http://<address Serve listens on>, once serving
	registry   *serverRegistry     // this server's row in the servers table
	console    *console.Console    // the web console (/console/)
}

// Setting keys kept in the store.
const settingAccountID = "account_id"

// New opens (creating if needed) the data directory and the store and
// bootstraps a fresh installation: an account ID, an admin access key and
// the credentials file at <DataDir>/credentials.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	shared, err := filepath.Abs(cfg.SharedDir)
	if err == nil {
		err = os.MkdirAll(shared, 0o700)
	}
	if err != nil {
		return nil, fmt.Errorf("shared dir: %w", err)
	}
	cfg.SharedDir = shared
	st, err := store.Open(ctx, cfg.Database, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Server{cfg: cfg, store: st}
	// Before anything else is written: another server on the same
	// database must share the shared dir and the artifact store.
	if s.registry, err = registerServer(ctx, st, &s.cfg, sleepFor(idWait)); err != nil {
		st.Close()
		return nil, err
	}
	if err := s.bootstrap(ctx); err != nil {
		s.registry.leave(ctx)
		st.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) bootstrap(ctx context.Context) error {
	keyPath := filepath.Join(s.cfg.DataDir, "master.key")
	key, err := auth.LoadOrCreateMasterKey(keyPath)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	sealer, err := auth.NewSealer(key)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	// Every server on the database must hold the same master key.
	if err := auth.CheckMasterKey(ctx, s.store, sealer, keyPath); err != nil {
		return err
	}
	s.sealer = sealer
	if s.accountID, err = s.ensureAccountID(ctx); err != nil {
		return err
	}
	keys := auth.NewKeys(s.store, sealer, s.accountID)
	existing, err := s.store.ListAccessKeys(ctx)
	if err != nil {
		return fmt.Errorf("list access keys: %w", err)
	}
	if len(existing) == 0 {
		if err := s.createAdminKey(ctx, keys); err != nil {
			return err
		}
	}

	// The notifier delivers approval notifications to the targets the
	// extension API manages; the engine's store wakes it when an approval
	// event commits. Its cursor is set before any request can append an
	// event, so a new installation misses none.
	s.notifier = notify.New(s.store, sealer, s.cfg.Notify, s.cfg.Logger)
	if err := s.notifier.Init(ctx); err != nil {
		return fmt.Errorf("notifier: %w", err)
	}

	s.jobKeys = auth.NewJobKeys(s.store, sealer, s.accountID)
	api := &awsproto.Server{Logger: s.cfg.Logger, Auth: &auth.Verifier{Keys: keys, JobKeys: s.jobKeys, Logger: s.cfg.Logger}}
	s.engine = engine.New(notify.WatchApprovals(s.store, s.notifier.Wake), s.cfg.Region, s.accountID, s.cfg.Engine, s.cfg.Logger, nil)
	cp := &codepipeline.Service{Store: s.store, Engine: s.engine, Region: s.cfg.Region, AccountID: s.accountID, Limits: s.cfg.Limits, Logger: s.cfg.Logger}
	cp.Sealer, cp.PublicURL = sealer, s.cfg.Engine.ConsoleURL
	cp.Register(api)
	// Deployments: the runner, and the host command service whose
	// deployment specifications are signed with the key every server on
	// the database shares (made at first start, or imported from
	// <DataDir>/deploy-signing.{key,pem}).
	signer, err := deploy.LoadOrCreateSigner(ctx, s.store, sealer, s.cfg.DataDir, s.cfg.Logger)
	if err != nil {
		return fmt.Errorf("deployment signing key: %w", err)
	}
	// Its store wakes the notifier when a trigger event commits.
	s.deployer = deploy.New(notify.WatchApprovals(s.store, s.notifier.Wake), s.cfg.Deploy, s.cfg.Logger)
	s.deployer.Region, s.deployer.AccountID = s.cfg.Region, s.accountID
	s.codeDeploy = &codedeploy.Service{Store: s.store, Region: s.cfg.Region, AccountID: s.accountID, Logger: s.cfg.Logger, Runner: s.deployer}
	s.codeDeploy.Register(api)
	hostCommands := &codedeploy.CommandService{Store: s.store, Runner: s.deployer, Signer: signer, Region: s.cfg.Region, AccountID: s.accountID, Logger: s.cfg.Logger}
	hostCommands.Register(api)
	// An absolute root: git-http-backend runs in another directory.
	gitRoot, err := filepath.Abs(filepath.Join(s.cfg.SharedDir, "git"))
	if err != nil {
		return fmt.Errorf("git repositories directory: %w", err)
	}
	s.repos = &githost.Host{Root: gitRoot, Auth: keyAuth{keys}, OnPush: s.onPush, Logger: s.cfg.Logger}
	hostCommands.Repos = s.repos // GitHubLocation revisions come from hosted repositories
	ext := &extensions.Service{Store: s.store, Sealer: sealer, Logger: s.cfg.Logger, Keys: keys, AccountID: s.accountID,
		Repos: &extensions.Repositories{Host: s.repos, PublicURL: s.cfg.Engine.ConsoleURL, Region: s.cfg.Region, AccountID: s.accountID}}
	ext.Connections = &extensions.Connections{Region: s.cfg.Region, AccountID: s.accountID}
	ext.Engine = s.engine // HeartbeatJob and PutJobLog of remote workers
	// GetJobBuildProject, NextJobBuildNumber and GetJobSecret of remote workers.
	ext.Builds = &providers.StoreBuilds{Store: s.store, Opener: sealer}
	ext.Register(api)

	if s.artifacts, err = s.openArtifacts(ctx); err != nil {
		return err
	}
	// Revision bundles: `slipway deploy push` uploads into the artifact
	// store with UploadBundle, whose body may exceed the default limit.
	ext.Bundles = s.artifacts
	api.TargetMaxBodyBytes = map[string]int64{slipwayapi.TargetPrefix + ".UploadBundle": slipwayapi.MaxUploadBundleRequestBytes}

	mux := http.NewServeMux()
	mux.Handle("POST /{$}", codepipeline.WithWorkerLabels(api)) // PollForJobs reads X-Slipway-Worker-Labels
	mux.Handle("GET "+hostcmd.BundlePathPrefix, hostCommands.BundleHandler(api.Auth, s.artifacts))
	mux.Handle("/git/", s.repos)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("POST /webhooks/{name}", cp.ServeWebhook)
	mux.Handle("POST "+slipwayapi.EnrollPath, &enrollHandler{ext: ext, cd: s.codeDeploy, endpoint: s.endpoint, region: s.cfg.Region, logger: s.cfg.Logger})
	// The web console: its data API serves the operations above with a
	// session cookie instead of SigV4.
	if s.console, err = console.New(console.Config{API: api, Keys: keys, Sealer: sealer, Events: s.store, Agents: s.store, Logger: s.cfg.Logger}); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	mux.Handle(console.Prefix, s.console.Handler())
	mux.Handle("GET /{$}", http.RedirectHandler(console.Prefix, http.StatusFound))
	s.handler = mux
	return nil
}

// keyAuth checks git's HTTP basic credentials against the access keys.
type keyAuth struct{ keys *auth.Keys }

// CheckBasic reports whether user is an access key ID and password its secret.
func (k keyAuth) CheckBasic(ctx context.Context, user, password string) (bool, error) {
	secret, _, err := k.keys.Lookup(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(secret, []byte(password)) == 1, nil
}

// ensureAccountID returns the installation's account ID, making it at
// first start. The read and the write are one transaction, so servers
// starting together on a new database agree on one ID.
func (s *Server) ensureAccountID(ctx context.Context) (string, error) {
	id, err := s.store.GetSetting(ctx, settingAccountID)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("read account id: %w", err)
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1e12))
	if err != nil {
		return "", fmt.Errorf("generate account id: %w", err)
	}
	err = s.store.InTx(ctx, func(q store.Queries) error {
		existing, err := q.GetSetting(ctx, settingAccountID)
		switch {
		case err == nil:
			id = existing // another server made it meanwhile
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		id = fmt.Sprintf("%012d", n.Int64())
		return q.PutSetting(ctx, settingAccountID, id)
	})
	if err != nil {
		return "", fmt.Errorf("store account id: %w", err)
	}
	return id, nil
}

func (s *Server) createAdminKey(ctx context.Context, keys *auth.Keys) error {
	id, secret, err := keys.Create(ctx, "admin")
	if err != nil {
		return fmt.Errorf("create admin access key: %w", err)
	}
	credPath := filepath.Join(s.cfg.DataDir, "credentials")
	if err := auth.WriteCredentialsFile(credPath, id, secret, s.cfg.Region); err != nil {
		return fmt.Errorf("write credentials file: %w", err)
	}
	cfgPath := filepath.Join(s.cfg.DataDir, "config")
	if err := auth.WriteConfigFile(cfgPath, s.cfg.Region); err != nil {
		return fmt.Errorf("write config file: %w", err)
	}
	s.cfg.Logger.Info("created admin access key", "access_key_id", id, "credentials_file", credPath)
	fmt.Fprintf(s.cfg.Stdout, `Slipway created an admin access key and wrote it to %s.
Use it with the AWS CLI like this:

  export AWS_SHARED_CREDENTIALS_FILE=%s AWS_CONFIG_FILE=%s
  aws codepipeline list-pipelines --endpoint-url http://%s

`, credPath, credPath, cfgPath, s.cfg.Listen)
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.store.CountPipelines(ctx); err != nil {
		s.cfg.Logger.Error("health check", "err", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// AccountID returns the installation's account ID.
func (s *Server) AccountID() string { return s.accountID }

// Serve accepts connections on ln until ctx ends, then shuts down
// gracefully: it stops accepting, waits up to 10 s for requests in flight
// and closes the store.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(s.console.Shutdown) // open event streams end at once
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.listenURL = listenURL(ln.Addr())
	stopBackground := s.StartBackground()
	s.cfg.Logger.Info("listening", "addr", ln.Addr().String(), "data_dir", s.cfg.DataDir)
	select {
	case err := <-errc:
		stopBackground()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.cfg.Logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := hs.Shutdown(shutCtx)
	stopBackground()
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// StartBackground starts the server's background loops (the execution
// engine and the approval notifier); the returned function stops them and
// waits for them to end.
func (s *Server) StartBackground() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.engine.Run(ctx); err != nil {
			s.cfg.Logger.Error("engine stopped", "err", err)
		}
	})
	wg.Go(func() {
		if err := s.deployer.Run(ctx); err != nil {
			s.cfg.Logger.Error("deployment runner stopped", "err", err)
		}
	})
	wg.Go(func() {
		if err := s.notifier.Run(ctx); err != nil {
			s.cfg.Logger.Error("notifier stopped", "err", err)
		}
	})
	// Connection sources: one mirror per remote, shared by the source
	// executor and the poller.
	mirrors := &gitsource.Mirrors{Dir: filepath.Join(s.cfg.DataDir, "mirrors"), Git: s.cfg.GitRunner}
	connections := &gitsource.Resolver{Store: s.store, Opener: s.sealer}
	if s.cfg.SourcePoll >= 0 {
		poller := &gitsource.Poller{Store: s.store, Engine: s.engine, Resolver: connections, Mirrors: mirrors, Git: s.cfg.GitRunner,
			Interval: s.cfg.SourcePoll, Matches: triggerMatches, ChangedFiles: changedFiles, Logger: s.cfg.Logger}
		wg.Go(func() {
			if err := poller.Run(ctx); err != nil {
				s.cfg.Logger.Error("source poller stopped", "err", err)
			}
		})
	}
	if s.cfg.S3Poll >= 0 {
		s3 := &providers.S3Poller{Store: s.store, Artifacts: s.artifacts, Start: s.engine.StartExecution, Interval: s.cfg.S3Poll, Logger: s.cfg.Logger}
		wg.Go(func() {
			if err := s3.Run(ctx); err != nil {
				s.cfg.Logger.Error("S3 source poller stopped", "err", err)
			}
		})
	}
	if s.cfg.Workers > 0 {
		lease := s.cfg.Engine.HeartbeatLease
		if lease <= 0 {
			lease = time.Minute
		}
		deps := providers.Deps{Artifacts: s.artifacts, Repos: s.repos, Logger: s.cfg.Logger, WorkDir: filepath.Join(s.cfg.DataDir, "work"),
			Builds: &providers.StoreBuilds{Store: s.store, Opener: s.sealer}}
		deps.Connections, deps.Mirrors = connections, mirrors
		deps.Deployments = s.codeDeploy
		deps.Functions = &providers.Functions{Store: s.store, Keys: s.jobKeys, Endpoint: s.endpoint(), AccountID: s.accountID, Region: s.cfg.Region}
		w := &worker.Worker{
			Source:      &worker.Local{Engine: s.engine, Notify: s.engine.JobsQueued(), Labels: s.cfg.WorkerLabels},
			Executors:   providers.Builtin(deps),
			Concurrency: s.cfg.Workers,
			Heartbeat:   lease / 4,
			Logger:      s.cfg.Logger,
		}
		wg.Go(func() {
			if err := w.Run(ctx); err != nil {
				s.cfg.Logger.Error("worker stopped", "err", err)
			}
		})
	}
	wg.Go(func() { s.registry.run(ctx, s.endpoint()) })
	return func() { cancel(); wg.Wait() }
}

// endpoint is the URL functions call the job API at: the public URL
// (Engine.ConsoleURL), else the address Serve listens on, else the
// configured listen address.
func (s *Server) endpoint() string {
	switch {
	case s.cfg.Engine.ConsoleURL != "":
		return strings.TrimRight(s.cfg.Engine.ConsoleURL, "/")
	case s.listenURL != "":
		return s.listenURL
	}
	return "http://" + s.cfg.Listen
}

// listenURL is the http:// URL of a listener's address, with a loopback
// address in place of an unspecified one.
func listenURL(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	return "http://" + addr.String()
}

// ListenAndServe listens on the configured address and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Close unregisters the server and closes the store.
func (s *Server) Close() error {
	s.registry.leave(context.Background())
	return s.store.Close()
}

// openArtifacts opens the artifact store: the filesystem under the data
// directory, or one bucket of an S3-compatible server in which every
// pipeline's artifact bucket is a prefix.
func (s *Server) openArtifacts(ctx context.Context) (artifact.Store, error) {
	if s.cfg.ArtifactS3 == nil {
		st, err := artifact.NewFSStore(filepath.Join(s.cfg.SharedDir, artifact.FSDirName))
		if err != nil {
			return nil, fmt.Errorf("artifact store: %w", err)
		}
		return st, nil
	}
	if s.cfg.ArtifactBucket == "" {
		return nil, errors.New("artifact store: an S3 endpoint needs a bucket (--artifact-s3-bucket)")
	}
	st, err := artifact.NewS3Store(ctx, *s.cfg.ArtifactS3)
	if err != nil {
		return nil, fmt.Errorf("artifact store: %w", err)
	}
	if _, err := st.List(ctx, s.cfg.ArtifactBucket, "slipway-check/"); err != nil {
		return nil, fmt.Errorf("artifact store: bucket %q on %s is not usable: %w", s.cfg.ArtifactBucket, s.cfg.ArtifactS3.Endpoint, err)
	}
	return &artifact.OneBucket{Store: st, Bucket: s.cfg.ArtifactBucket}, nil
}

// Artifacts returns the server's artifact store.
func (s *Server) Artifacts() artifact.Store { return s.artifacts }
