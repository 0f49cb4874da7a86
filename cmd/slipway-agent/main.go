// Command slipway-agent is the Slipway host agent: it runs on each EC2 or
// on-premises instance, polls the Slipway server for host commands and
// executes them (DownloadBundle, Install and the lifecycle hooks), like
// the stock CodeDeploy agent. See docs/agent.md.
//
//	slipway-agent --config /etc/slipway-agent/agent.yml [--root DIR] [--install-root DIR]
//	slipway-agent enroll --server URL --token TOKEN --name NAME [--out agent.yml]
//
// enroll registers this host as instance NAME with an enrollment token
// (POST /enroll) and writes its configuration to --out (mode 0600).
//
// SIGTERM or SIGINT stops polling at once and lets the command that is
// running finish and be reported (for at most
// kill_agent_max_wait_time_seconds); a second signal kills its scripts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/slipway-cd/slipway/internal/agent"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "enroll" {
		return runEnroll(args[1:], stderr)
	}
	fs := flag.NewFlagSet("slipway-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "/etc/slipway-agent/agent.yml", "configuration file")
	root := fs.String("root", "", "deployment root; overrides root_dir")
	installRoot := fs.String("install-root", "", "directory every AppSpec destination is placed under; overrides install_root")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *version {
		fmt.Fprintln(stderr, "slipway-agent", agent.Version)
		return 0
	}
	cfg, err := agent.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, "slipway-agent:", err)
		return 2
	}
	for _, o := range []struct {
		flag string
		dst  *string
		name string
	}{{*root, &cfg.RootDir, "--root"}, {*installRoot, &cfg.InstallRoot, "--install-root"}} {
		if o.flag == "" {
			continue
		}
		abs, err := filepath.Abs(o.flag)
		if err != nil {
			fmt.Fprintf(stderr, "slipway-agent: %s: %v\n", o.name, err)
			return 2
		}
		*o.dst = abs
	}

	logger, closeLog, err := newLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "slipway-agent:", err)
		return 1
	}
	defer closeLog()

	a, err := agent.New(cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sigs
		logger.Info("stopping after the current command", "signal", s.String())
		stop()
		s = <-sigs
		logger.Warn("killing the current command", "signal", s.String())
		a.Kill()
	}()

	logger.Info("slipway-agent starting", "version", agent.Version, "endpoint", cfg.Endpoint,
		"host_identifier", cfg.HostID(), "instance", cfg.InstanceName, "root_dir", cfg.RootDir, "install_root", cfg.InstallRoot)
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("agent stopped", "err", err)
		return 1
	}
	logger.Info("slipway-agent stopped")
	return 0
}

// newLogger logs text lines to stderr and to <log_dir>/<program_name>.log.
func newLogger(cfg *agent.Config, stderr io.Writer) (*slog.Logger, func(), error) {
	level := slog.LevelInfo
	if cfg.Verbose {
		level = slog.LevelDebug
	}
	w := stderr
	closeFn := func() {}
	if cfg.LogDir != "" {
		if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("log_dir: %w", err)
		}
		f, err := os.OpenFile(filepath.Join(cfg.LogDir, cfg.ProgramName+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		w = io.MultiWriter(stderr, f)
		closeFn = func() { f.Close() }
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closeFn, nil
}

// runEnroll is `slipway-agent enroll`.
func runEnroll(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("slipway-agent enroll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "the Slipway server's URL, as this host reaches it (required)")
	token := fs.String("token", "", "the enrollment token (required; also read from $SLIPWAY_ENROLLMENT_TOKEN)")
	name := fs.String("name", "", "the instance name to register (default the host name)")
	out := fs.String("out", "/etc/slipway-agent/agent.yml", "where to write the agent configuration (must not exist)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *token == "" {
		*token = os.Getenv("SLIPWAY_ENROLLMENT_TOKEN")
	}
	if *name == "" {
		*name, _ = os.Hostname()
	}
	if *server == "" || *token == "" || *name == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: slipway-agent enroll --server URL --token TOKEN --name NAME [--out agent.yml]")
		return 2
	}
	if _, err := os.Stat(*out); err == nil {
		fmt.Fprintf(stderr, "slipway-agent enroll: %s exists; remove it or choose another --out\n", *out)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := agent.Enroll(ctx, nil, *server, *token, *name)
	if err != nil {
		fmt.Fprintln(stderr, "slipway-agent:", err)
		return 1
	}
	if err := agent.WriteNewFile(*out, cfg); err != nil {
		fmt.Fprintln(stderr, "slipway-agent: write configuration:", err)
		return 1
	}
	fmt.Fprintf(stderr, "Enrolled instance %s; wrote its configuration to %s (mode 0600).\nStart the agent: slipway-agent --config %s\n", *name, *out, *out)
	return 0
}
