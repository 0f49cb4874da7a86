package cli

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/slipway-cd/slipway/internal/demo"
)

func newDemoCommand(stdout io.Writer) *cobra.Command {
	var cfg demo.Config
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole product on this machine: a server, two agents and a pipeline that deploys a sample app",
		Long: `Run a server (as slipway server, with embedded workers) and show everything working:

  - a hosted git repository demo-app holding a small static web app, with a buildspec.yml
    (install, build and test phases, a JUnit report, artifacts) and an appspec.yml whose
    hooks install and check the app;
  - two host agents in this process, registered as the on-premises instances demo-1 and
    demo-2 (tag env=demo), each installing into its own directory under --data-dir;
  - a CodeDeploy application demo-app with the deployment group demo-fleet;
  - the pipeline demo: Source (CodeCommit) -> Build (CodeBuild) -> Approve (Manual
    approval) -> Deploy (CodeDeploy);
  - a first commit pushed with git, which starts the pipeline.

It prints the console URL, where the credentials are and what to try next, then follows
the pipeline until Ctrl-C, which stops the agents and the server gracefully. Running it
again with the same --data-dir reuses everything and pushes the next release.
It needs git and a POSIX shell.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Stdout = stdout
			return demo.Run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", demo.DefaultDataDir, "directory for the server's data, the agents' directories and the logs")
	f.StringVar(&cfg.Listen, "listen", demo.DefaultListen, "address the server listens on")
	return cmd
}
