// Package gitsource reaches git repositories outside Slipway, the remotes
// of connections (the ConnectionArn of CodeStarSourceConnection source
// actions): it resolves a connection to a remote URL and credentials
// ([Resolver]), keeps a local mirror of every remote ([Mirrors]), lists a
// remote's branches and tags ([LsRemote]) and polls the remotes that
// pipelines watch, starting the pipelines when a watched ref moves
// ([Poller]).
//
// Every git command runs through a [Runner], so tests can count and
// inspect them. Credentials never appear on a command line: git reads them
// from a credential helper defined inline that prints two environment
// variables of the git process (see [Remote]), other credential helpers
// are switched off (so nothing stores them), and they are never logged.
package gitsource

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
)

// Remote is a git remote and the credentials to read it.
type Remote struct {
	// URL is the remote's URL (no credentials in it): https://, http://,
	// ssh://, git://, file://, scp-like user@host:path or an absolute local
	// path.
	URL string
	// Username and Password are HTTP basic credentials for http(s)
	// remotes; empty for anonymous access.
	Username string
	Password string
	// ConnectionARN is the connection the remote comes from, if any.
	ConnectionARN string
}

// String returns the URL only, so a Remote printed by mistake shows no
// secret.
func (r *Remote) String() string { return r.URL }

// LogValue makes slog show the URL only.
func (r *Remote) LogValue() slog.Value { return slog.StringValue(r.URL) }

// Format prints the URL only, whatever the verb.
func (r *Remote) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.URL) }

// Environment variables that carry credentials to the inline credential
// helper; they are set on the git process only.
const (
	envUsername = "SLIPWAY_GIT_USERNAME"
	envPassword = "SLIPWAY_GIT_PASSWORD"
)

// credentialHelper answers git's "get" with the two variables. It is
// configured after an empty credential.helper, which drops every helper
// configured elsewhere, so no "store" helper writes the secret to disk.
const credentialHelper = `!f() { test "$1" = get || return 0; printf 'username=%s\npassword=%s\n' "$` + envUsername + `" "$` + envPassword + `"; }; f`

// allowedProtocols are the transports git may use (GIT_ALLOW_PROTOCOL):
// never ext:: or fd::, which run commands.
const allowedProtocols = "file:git:http:https:ssh"

// Command is one git invocation.
type Command struct {
	// Dir is the working directory ("" for the current one).
	Dir string
	// Args are git's arguments (configuration options first).
	Args []string
	// Env is added to the process environment; credentials travel here.
	Env []string
	// Stdout, when set, receives the standard output, which Run then
	// does not return.
	Stdout io.Writer
}

// Runner runs git commands.
type Runner interface {
	// Run runs c and returns its standard output (unless c.Stdout is
	// set). A failure's error includes git's standard error.
	Run(ctx context.Context, c *Command) ([]byte, error)
}

// ExecRunner runs the git binary found on PATH.
type ExecRunner struct{}

// Run implements Runner.
func (ExecRunner) Run(ctx context.Context, c *Command) ([]byte, error) {
	cmd := exec.CommandContext(ctx, gitPath(), c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.Stdout != nil {
		cmd.Stdout = c.Stdout
	}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", subcommand(c.Args), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func gitPath() string {
	if p, err := exec.LookPath("git"); err == nil {
		return p
	}
	return "/usr/bin/git"
}

// subcommand is the first argument that is not a -c option.
func subcommand(args []string) string {
	for i := 0; i < len(args); i++ {
		if args[i] == "-c" || args[i] == "-C" {
			i++
			continue
		}
		return args[i]
	}
	return ""
}

// baseEnv is the environment of every git command: no prompts, only
// safe transports, a fixed locale, ssh without passwords.
func baseEnv() []string {
	env := []string{"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=", "LC_ALL=C",
		"GIT_ALLOW_PROTOCOL=" + allowedProtocols}
	if os.Getenv("GIT_SSH_COMMAND") == "" && os.Getenv("GIT_SSH") == "" {
		env = append(env, "GIT_SSH_COMMAND=ssh -o BatchMode=yes")
	}
	return env
}

// remoteCommand is a git command that talks to r: the credential helper
// configured (when r has credentials) before args, and the credentials in
// the environment.
func remoteCommand(r *Remote, dir string, args ...string) *Command {
	c := &Command{Dir: dir, Env: baseEnv()}
	c.Args = append(c.Args, "-c", "credential.helper=")
	if r.Username != "" || r.Password != "" {
		c.Args = append(c.Args, "-c", "credential.helper="+credentialHelper)
		c.Env = append(c.Env, envUsername+"="+r.Username, envPassword+"="+r.Password)
	}
	c.Args = append(c.Args, args...)
	return c
}

// localCommand is a git command on a local repository.
func localCommand(dir string, args ...string) *Command {
	return &Command{Dir: dir, Args: args, Env: baseEnv()}
}

// LsRemote lists the branches and tags of the remote: full ref names
// (refs/heads/..., refs/tags/...) and the objects they point at. An
// annotated tag also appears peeled, as "refs/tags/<tag>^{}" with its
// commit.
func LsRemote(ctx context.Context, run Runner, r *Remote) (map[string]string, error) {
	out, err := run.Run(ctx, remoteCommand(r, "", "ls-remote", "--heads", "--tags", r.URL))
	if err != nil {
		return nil, fmt.Errorf("list the refs of %s: %w", r.URL, err)
	}
	return parseRefs(out), nil
}

// parseRefs reads "<object>\t<ref>" lines.
func parseRefs(out []byte) map[string]string {
	refs := map[string]string{}
	for line := range strings.SplitSeq(string(out), "\n") {
		obj, ref, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if ok && obj != "" && ref != "" {
			refs[ref] = obj
		}
	}
	return refs
}

// runner returns run, or the git binary.
func runner(run Runner) Runner {
	if run == nil {
		return ExecRunner{}
	}
	return run
}
