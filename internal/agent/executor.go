package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slipway-cd/slipway/internal/appspec"
)

// Command names the service hands out (command_poller.rb
// DEFAULT_HOOK_MAPPING plus DownloadBundle and Install; api.md §6.7).
const (
	CmdDownloadBundle = "DownloadBundle"
	CmdInstall        = "Install"
)

// hookCommands maps each hook command to the lifecycle event it runs.
var hookCommands = map[string]appspec.Event{
	"BeforeBlockTraffic": appspec.BeforeBlockTraffic,
	"AfterBlockTraffic":  appspec.AfterBlockTraffic,
	"ApplicationStop":    appspec.ApplicationStop,
	"BeforeInstall":      appspec.BeforeInstall,
	"AfterInstall":       appspec.AfterInstall,
	"ApplicationStart":   appspec.ApplicationStart,
	"BeforeAllowTraffic": appspec.BeforeAllowTraffic,
	"AfterAllowTraffic":  appspec.AfterAllowTraffic,
	"ValidateService":    appspec.ValidateService,
}

// BundleFetcher downloads the bundle of a deployment into w and returns the
// ETag the server sent, if any.
type BundleFetcher interface {
	FetchBundle(ctx context.Context, spec *DeploymentSpec, w io.Writer) (etag string, err error)
}

// LogStreamer sends a chunk of hook output to the server while a script
// runs. An error stops streaming for the rest of the command.
type LogStreamer func(ctx context.Context, chunk string) error

// Executor executes host commands against the deployment root. Its
// exported fields must be set before the first Execute and not changed
// afterwards. It is safe for concurrent use on different deployment
// groups.
type Executor struct {
	// Root is the deployment root (root_dir).
	Root string
	// InstallRoot, when set, is prefixed to every AppSpec destination and
	// permissions object, and exported to hooks as SLIPWAY_INSTALL_ROOT.
	InstallRoot string
	// MaxRevisions is how many deployment directories of a group are kept,
	// the current one included; 0 means DefaultMaxRevisions.
	MaxRevisions int
	// MaxBundleBytes bounds the uncompressed size of a bundle (in total
	// and per file); 0 means artifact.DefaultMaxBytes.
	MaxBundleBytes int64
	// HookWorkingDir is the hooks' working directory; "" is the agent's.
	HookWorkingDir string
	// DeploymentsLog enables deployment-logs/codedeploy-agent-deployments.log.
	DeploymentsLog bool
	// Fetcher downloads S3 and GitHub revisions (from the server).
	Fetcher BundleFetcher
	// Logger logs; nil discards.
	Logger *slog.Logger
	// KillGrace is how long a timed-out script's process group has between
	// SIGTERM and SIGKILL; 0 means 10 s.
	KillGrace time.Duration

	// chmod makes a script executable; a test seam (nil: os.Chmod).
	chmod func(string, fs.FileMode) error
	// euid is the effective uid; a test seam (nil: os.Geteuid).
	euid func() int

	logMu sync.Mutex
}

func (x *Executor) log() *slog.Logger {
	if x.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return x.Logger
}

func (x *Executor) isRoot() bool {
	if x.euid != nil {
		return x.euid() == 0
	}
	return os.Geteuid() == 0
}

// Paths of the deployment root (api.md §6.11).

func (x *Executor) groupDir(s *DeploymentSpec) string {
	return filepath.Join(x.Root, s.DeploymentGroupID)
}

// DeploymentDir returns <root>/<group id>/<deployment id>.
func (x *Executor) DeploymentDir(s *DeploymentSpec) string {
	return filepath.Join(x.Root, s.DeploymentGroupID, s.DeploymentID)
}

func archiveDir(deploymentDir string) string {
	return filepath.Join(deploymentDir, "deployment-archive")
}

func (x *Executor) instructionsDir() string {
	return filepath.Join(x.Root, "deployment-instructions")
}

func (x *Executor) lastSuccessfulFile(group string) string {
	return filepath.Join(x.instructionsDir(), group+"_last_successful_install")
}

func (x *Executor) mostRecentFile(group string) string {
	return filepath.Join(x.instructionsDir(), group+"_most_recent_install")
}

func (x *Executor) cleanupFile(group string) string {
	return filepath.Join(x.instructionsDir(), group+"-cleanup")
}

func (x *Executor) installFile(group string) string {
	return filepath.Join(x.instructionsDir(), group+"-install.json")
}

// readPointer reads a _last_successful_install or _most_recent_install file:
// the deployment directory it names, or "" when there is none.
func readPointer(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	dir := strings.TrimSpace(string(b))
	if dir == "" {
		return ""
	}
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// IsNoop reports whether command does nothing for spec
// (command_executor.rb is_command_noop?): DownloadBundle and Install never
// are; a hook is when no revision applies or its AppSpec file has no
// scripts for the event; unknown commands are.
func (x *Executor) IsNoop(command string, spec *DeploymentSpec) bool {
	switch command {
	case CmdDownloadBundle, CmdInstall:
		return false
	}
	ev, ok := hookCommands[command]
	if !ok {
		return true
	}
	dir := x.hookDeploymentDir(ev, spec)
	if dir == "" {
		return true
	}
	as, err := x.loadAppSpec(archiveDir(dir), spec)
	if err != nil {
		return false // executing it reports the error
	}
	return len(as.Scripts(ev)) == 0
}

// Execute runs one host command for spec. A failure is a *ScriptError
// when it carries a diagnostics code other than CodeUnknownError. stream,
// when not nil, receives hook output while scripts run.
func (x *Executor) Execute(ctx context.Context, command string, spec *DeploymentSpec, stream LogStreamer) error {
	if err := os.MkdirAll(x.DeploymentDir(spec), 0o755); err != nil {
		return err
	}
	switch command {
	case CmdDownloadBundle:
		return x.downloadBundle(ctx, spec)
	case CmdInstall:
		return x.install(spec)
	}
	if ev, ok := hookCommands[command]; ok {
		return x.runHook(ctx, ev, spec, stream)
	}
	return fmt.Errorf("Unsupported command type: %s.", command)
}

// loadAppSpec reads and parses the AppSpec file of an unpacked revision:
// AppSpecFilename when it exists, else appspec.yaml, else appspec.yml
// (command_executor.rb app_spec_real_path).
func (x *Executor) loadAppSpec(archive string, spec *DeploymentSpec) (*appspec.Spec, error) {
	path := ""
	if name := spec.AppSpecFilename; name != "" && name != appspec.DefaultFilename {
		p := filepath.Join(archive, filepath.Clean("/"+name))
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
			path = p
		}
	}
	if path == "" {
		p, err := appspec.Find(archive)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && spec.AppSpecFilename != appspec.DefaultFilename {
				return nil, fmt.Errorf("The AppSpec file %s was not found at the root of the bundle %s, nor appspec.yaml or appspec.yml", spec.AppSpecFilename, archive)
			}
			return nil, err
		}
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	as, err := appspec.Parse(data)
	if err != nil {
		return nil, err
	}
	if err := as.CheckOS(appspec.OSLinux); err != nil {
		return nil, err
	}
	return as, nil
}

// appendDeploymentsLog writes entries to
// <root>/deployment-logs/codedeploy-agent-deployments.log as
// "[YYYY-mm-dd HH:MM:SS.mmm] [<DeploymentId>]<message>" (log.rb).
func (x *Executor) appendDeploymentsLog(deploymentID, msg string) {
	if !x.DeploymentsLog {
		return
	}
	x.logMu.Lock()
	defer x.logMu.Unlock()
	dir := filepath.Join(x.Root, "deployment-logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, "codedeploy-agent-deployments.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "[%s] [%s]%s\n", time.Now().Format("2006-01-02 15:04:05.000"), deploymentID, strings.TrimSpace(msg))
}
