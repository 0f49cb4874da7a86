// Package drills holds fault drills: Go tests that run the real slipway
// and slipway-agent binaries (built once by TestMain), break something on
// purpose and assert that nothing the API acknowledged is lost. They run
// in CI with the rest of `go test -race ./...`.
//
//   - Server SIGKILL (TestDrillServerKill): pipeline executions of custom
//     actions, whose job workers run in the test and record each job's
//     work by execution and action, and deployments to two real agents go
//     on while the server is SIGKILLed at random moments 20 times and
//     restarted on the same data directory. Every execution and deployment
//     that was acknowledged ends Succeeded; no action's work is done twice
//     for one execution and no lifecycle hook runs twice.
//   - Disk full (TestDrillDiskFull): the data directory is a small tmpfs
//     filled with a ballast file (or, where mounting is not allowed, the
//     server runs under RLIMIT_FSIZE set with prlimit(2)). Writes are
//     refused with ServiceUnavailableException saying the database cannot
//     be written; reads go on; writes succeed again once the space returns,
//     without a restart; nothing acknowledged is lost, also across a
//     restart.
//   - Agent network cut (TestDrillAgentNetworkCut): a real agent reaches
//     the server through a TCP proxy the test can cut. A hook longer than
//     the agent lease is not a cut (the agent's keepalives show it alive);
//     a cut shorter than the lease is ridden out; a cut longer than the
//     lease fails the instance with AGENT_ISSUE and the deployment fails
//     (OneAtATime), and the next deployment succeeds.
//   - Worker killed mid-build (TestDrillWorkerKilled): a `slipway worker`
//     process running a CodeBuild action that sleeps is SIGKILLed; the
//     server's heartbeat lease times the job out, so the execution fails
//     instead of hanging, and a retry on a new worker succeeds.
//   - Hostile input (TestDrillHostileRequests, TestDrillHostileBuildspecs,
//     TestDrillHostileBundles): the corpus in testdata/hostile and inputs
//     generated in the test (huge bodies, nesting 10,000 to 1,000,000
//     levels deep, invalid UTF-8, duplicate members, YAML bombs, zip bombs,
//     path traversal, absolute paths, symlinks out, huge and many files)
//     go through the real API, and bundles through UploadBundle to a real
//     agent. Each gets a clear error (the model's exception name for API
//     calls; a DownloadBundle failure naming the problem for bundles), the
//     server's RSS stays under 512 MiB and it stays up.
package drills
