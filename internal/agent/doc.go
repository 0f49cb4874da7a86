// Package agent is the Slipway host agent: the process that runs on every
// EC2 or on-premises instance of a deployment group, polls the server's
// CodeDeploy command service (CodeDeployCommandService_v20141006) for host
// commands and executes them, as the stock aws-codedeploy-agent 1.8.1
// does (reference/api.md §6).
//
// The package has three layers:
//
//   - [Client] speaks the command service: AWS JSON 1.1 over HTTP(S),
//     SigV4-signed with the instance's own credentials under the signing
//     name codedeploy-commands, and downloads bundles from the server.
//   - [Executor] executes one host command for one deployment
//     specification: DownloadBundle, Install and the lifecycle hooks
//     (ApplicationStop, BeforeInstall, AfterInstall, ApplicationStart,
//     ValidateService and the traffic hooks). It owns the deployment root
//     (<root>/<group-id>/<deployment-id>/{bundle.tar,deployment-archive,
//     logs/scripts.log}, deployment-instructions/, deployment-logs/) and
//     knows nothing about the network except a [BundleFetcher] and a
//     [LogStreamer].
//   - [Agent] is the poll loop: PollHostCommand, GetDeploymentSpecification,
//     PutHostCommandAcknowledgement, the ongoing-deployment tracking file,
//     the Executor, PutHostCommandComplete with the diagnostics JSON, crash
//     recovery at start and backoff on errors.
//
// The agent holds no database code: everything it remembers lives in the
// deployment root, like the stock agent's. See docs/agent.md for the
// configuration file and the behaviours it mirrors.
package agent
