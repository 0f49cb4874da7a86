package demo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// SelfCommand is how a shell runs this slipway: "slipway" when it is on
// PATH, "go run ./cmd/slipway" under go run, else the executable's path.
func SelfCommand() string {
	if _, err := exec.LookPath("slipway"); err == nil {
		return "slipway"
	}
	exe, err := os.Executable()
	if err != nil {
		return "slipway"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/slipway"
	}
	return shellQuote(exe)
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cliFlags are the flags a slipway command needs to reach this demo.
func (d *Demo) cliFlags() string {
	f := " --data-dir " + shellQuote(d.DataDir)
	if d.Endpoint != "http://"+DefaultListen {
		f += " --endpoint " + d.Endpoint
	}
	return f
}

// approveCommand approves the pending release with the slipway CLI.
func (d *Demo) approveCommand() string {
	return d.cfg.Command + " pipeline approve " + PipelineName + " --stage " + ApprovalStage + " --action " + ApprovalAction +
		` --summary "ship it"` + d.cliFlags()
}

// helperCommand is the git credential helper's command line: git runs it
// in the clone, so a go run needs this directory.
func (d *Demo) helperCommand() string {
	c := d.cfg.Command
	if strings.HasPrefix(c, "go run ") {
		if wd, err := os.Getwd(); err == nil {
			c = "cd " + shellQuote(wd) + " && " + c
		}
	}
	return c + " repo credential-helper --data-dir " + shellQuote(d.AbsDataDir)
}

// Instructions is what the demo prints once it runs: where things are and
// what to try next.
func (d *Demo) Instructions() string {
	var b strings.Builder
	c, flags, ep := d.cfg.Command, d.cliFlags(), d.Endpoint
	credPath := filepath.Join(d.AbsDataDir, "credentials")
	var installs []string
	for _, a := range d.Agents {
		installs = append(installs, a.InstallDir+"/srv/demo-app")
	}
	started := "git push started execution"
	if d.FirstRun {
		started = "creating the pipeline started its first execution"
	}
	fmt.Fprintf(&b, `
Slipway demo is running at %s (Ctrl-C stops it; run it again to continue).

  Console      %s/console/
  Credentials  %s (the admin access key, AWS shared-credentials format)
  Repository   %s (branch %s): pushed release %s, commit %s;
               %s
  Pipeline     %s: Source (CodeCommit %s) -> Build (CodeBuild %s) -> %s (Manual %s) -> Deploy (CodeDeploy %s/%s)
  Agents       %s (tag %s=%s), installing into
`, ep, ep, credPath, RepositoryName, Branch, d.Release, d.Commit, started,
		PipelineName, RepositoryName, BuildProjectName, ApprovalStage, ApprovalAction, ApplicationName, DeploymentGroupName,
		strings.Join(InstanceNames, ", "), TagKey, TagValue)
	for _, p := range installs {
		fmt.Fprintf(&b, "                 %s\n", p)
	}
	fmt.Fprintf(&b, "  Logs         %s, %s\n", d.ServerLog(), filepath.Join(d.demoDir(), "agents", "*", "log"))
	for _, id := range d.abandoned {
		fmt.Fprintf(&b, "\n  Abandoned execution %s: the last run stopped in the middle of one of its actions.\n", id)
	}
	if d.waitingBehind != "" {
		fmt.Fprintf(&b, `
  Execution %s of an earlier run waits for approval at %s;
  the new one waits behind it: approve (or reject) that one first.
`, d.waitingBehind, ApprovalStage)
	}
	fmt.Fprintf(&b, `
Try, in another terminal in this directory:

  %s pipeline status %s%s
  %s
  %s deploy list%s

Change the app and push again (git asks slipway for the access key):

  git clone -c %s %s
  cd %s && sed -i 's/Hello from demo-app/Hello again/' src/index.html
  git commit -am "Say hello again" && git push

The same with the AWS CLI:

  export AWS_SHARED_CREDENTIALS_FILE=%s AWS_CONFIG_FILE=%s
  aws codepipeline get-pipeline-state --name %s --endpoint-url %s
  aws codepipeline put-approval-result --pipeline-name %s --stage-name %s --action-name %s \
      --result 'status=Approved,summary=ship it' --token TOKEN --endpoint-url %s
      (TOKEN: the %s action's latestExecution.token in get-pipeline-state)
  aws deploy list-deployments --application-name %s --deployment-group-name %s --endpoint-url %s

Progress (execution ID, stage/action, state):
`, c, PipelineName, flags, d.approveCommand(), c, flags,
		shellQuote("credential.helper=!"+d.helperCommand()), d.CloneURL, RepositoryName,
		shellQuote(credPath), shellQuote(filepath.Join(d.AbsDataDir, "config")), PipelineName, ep,
		PipelineName, ApprovalStage, ApprovalAction, ep, ApprovalAction,
		ApplicationName, DeploymentGroupName, ep)
	return b.String()
}
