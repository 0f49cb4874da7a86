package buildspec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

const (
	// DefaultShell is the shell commands run in when neither Runner.Shell
	// nor env.shell says otherwise.
	DefaultShell = "/bin/sh"
	// DefaultTimeout is the build timeout when Runner.Timeout is zero:
	// CodeBuild's default of 60 minutes.
	DefaultTimeout = 60 * time.Minute
	// defaultPath is the PATH of the clean build environment.
	defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	// logTimeFormat is the timestamp of CodeBuild's [Container] lines.
	logTimeFormat = "2006/01/02 15:04:05"
)

// Secret kinds passed to Runner.Secrets.
const (
	SecretKindParameterStore = "parameter-store"
	SecretKindSecretsManager = "secrets-manager"
)

// Runner runs parsed buildspecs. A Runner may run several builds at once;
// it is not modified by Run.
type Runner struct {
	// Shell is the default shell, an absolute path to sh, bash, dash or
	// ash; DefaultShell when empty. env.shell overrides it.
	Shell string
	// Env is the base environment: the CODEBUILD_* values (see BuildInfo)
	// and the project's variables. It overrides env.variables and the
	// buildspec secrets, as CodeBuild's project-level variables do. The
	// server's own environment is never passed on.
	Env map[string]string
	// Secrets resolves env.parameter-store (kind "parameter-store", name =
	// the parameter name) and env.secrets-manager (kind "secrets-manager",
	// name = the secret-id) to Slipway secret values. The runner applies
	// the json-key itself. Resolved values are redacted from the log.
	Secrets func(kind, name string) (string, error)
	// Log receives the build log as it is written: the [Container] lines
	// and every command's output, with secrets replaced by ***. Write
	// errors are ignored after the first so that the build goes on.
	Log io.Writer
	// Timeout bounds the whole build; DefaultTimeout when zero.
	Timeout time.Duration
	// Now is the clock for the log timestamps; time.Now when nil.
	Now func() time.Time
}

// Run runs spec in srcDir, which must be a fresh directory holding the
// primary input artifact. It returns an error without a result when the
// build cannot start (bad arguments). Otherwise the result is always
// returned, and the error is a *BuildError unless the build succeeded.
func (r *Runner) Run(ctx context.Context, spec *Spec, srcDir string) (*Result, error) {
	b, err := r.newBuild(spec, srcDir)
	if err != nil {
		return nil, err
	}
	defer b.removeState()
	return b.run(ctx)
}

// newBuild validates the arguments and creates the build's private state
// directory (outside srcDir).
func (r *Runner) newBuild(spec *Spec, srcDir string) (*build, error) {
	if spec == nil {
		return nil, errors.New("buildspec: no spec to run")
	}
	shell, err := r.shellFor(spec)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(srcDir)
	if err != nil {
		return nil, fmt.Errorf("buildspec: source directory: %w", err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("buildspec: source directory %q is not a directory", srcDir)
	}
	if err := checkBaseEnv(r.Env); err != nil {
		return nil, err
	}
	state, err := os.MkdirTemp("", "slipway-build-")
	if err != nil {
		return nil, fmt.Errorf("buildspec: creating the build state directory: %w", err)
	}
	home := filepath.Join(state, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		_ = os.RemoveAll(state)
		return nil, fmt.Errorf("buildspec: creating the build home directory: %w", err)
	}
	return &build{r: r, spec: spec, srcDir: abs, shell: shell, stateDir: state, home: home, now: r.clock()}, nil
}

// clock returns r.Now or time.Now, in UTC.
func (r *Runner) clock() func() time.Time {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	return func() time.Time { return now().UTC() }
}

// timeout returns the build timeout.
func (r *Runner) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}

// logWriter returns r.Log or io.Discard.
func (r *Runner) logWriter() io.Writer {
	if r.Log == nil {
		return io.Discard
	}
	return r.Log
}

// checkBaseEnv rejects names that cannot be environment variables.
func checkBaseEnv(env map[string]string) error {
	for k := range env {
		if !isEnvName(k) {
			return fmt.Errorf("buildspec: Runner.Env: %q is not a valid environment variable name", k)
		}
	}
	return nil
}
