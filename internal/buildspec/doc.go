// Package buildspec parses, validates and runs CodeBuild buildspec files
// (buildspec.yml, version 0.2) for Slipway's CodeBuild actions.
//
// [Parse] is pure: it walks the yaml.v3 node tree, so every error is a
// [*ParseError] that names the line, the field and the fix. [Runner.Run] is
// the I/O edge: it runs the phases in real shell processes and returns a
// [Result] with the phase statuses, the failing command, the log tail, the
// exported variables, the artifact file lists and the test report counts.
//
// Sources: the CodeBuild user guide, "Build specification reference"
// (https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html,
// also awsdocs/aws-codebuild-user-guide doc_source/build-spec-ref.md),
// "Build phase transitions"
// (https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details-phases.html),
// "Shells and commands in build environments" (build-env-ref-cmd.md) and
// "Environment variables in build environments" (build-env-ref-env-vars.md).
//
// # Versions
//
// Only version 0.2 is accepted. Version 0.1 is rejected with a message
// rather than emulated: in 0.1 every command ran in its own shell, so cd and
// variables did not carry over, and its keys were environment_variables and
// plaintext (build-env-ref-cmd.md; the versions table of the reference).
// Emulating that would silently change what a file that also runs on 0.2
// does.
//
// # Accepted structure
//
//	version, run-as,
//	env: shell, variables, parameter-store, secrets-manager,
//	     exported-variables, git-credential-helper
//	proxy: upload-artifacts, logs
//	phases: install (runtime-versions, run-as, on-failure, commands, finally),
//	        pre_build, build, post_build (run-as, on-failure, commands, finally)
//	reports: <group name or ARN>: files, base-directory, discard-paths, file-format
//	artifacts: files, name, discard-paths, base-directory, exclude-paths,
//	           enable-symlinks, s3-prefix, secondary-artifacts: <id>: {same keys}
//	cache: paths, key, fallback-keys, action
//
// Any other key is an error naming its line, with a "did you mean" for near
// misses. Keys that CodeBuild accepts and Slipway ignores are validated,
// then recorded in Spec.Notes and written to the build log: run-as (top
// level and per phase: commands run as the Slipway build user),
// runtime-versions (the host's tools are used; CodeBuild logs the same
// "Skipping install of runtimes" warning on images without runtime
// selection), env.git-credential-helper, proxy, cache (every build starts
// from a fresh directory) and artifacts.type (deprecated by 0.2). batch is
// rejected: batch builds are not supported. on-failure RETRY values are
// rejected: retry the pipeline action instead. file-format accepts JUNITXML
// (the default) and CUCUMBERJSON; CodeBuild's other formats are rejected by
// name.
//
// Further validation: variable names must be shell names and may not start
// with CODEBUILD_ (reserved, per the reference); a name is defined once
// across variables, parameter-store and secrets-manager; exported-variables
// may not start with AWS_ (per the reference) nor name a secret (output
// variables are stored in plain text); artifact and report paths are
// relative and stay inside the source directory; artifacts.files is
// required even with only secondary artifacts (per the reference).
//
// # Secrets
//
// env.parameter-store and env.secrets-manager are a documented Slipway
// extension: they are resolved through Runner.Secrets from Slipway's secret
// store, not from AWS. A secrets-manager value is
// secret-id:json-key:version-stage:version-id; the runner asks for the
// secret-id and applies the json-key itself. Slipway secrets are not
// versioned, so a version-id, or a version-stage other than AWSCURRENT, is a
// parse error. Every resolved value (and each line of a multi-line value) is
// replaced by *** in the log, the log tail, the error message, the artifact
// names and the exported variables, as CodeBuild hides Parameter Store and
// Secrets Manager values in its logs (reference, env note).
//
// # Environment
//
// Commands get a clean environment, lowest precedence first: PATH (a
// standard system path) and HOME (a fresh directory per build), then
// env.variables, the buildspec secrets, Runner.Env (the CODEBUILD_* values,
// see [BuildInfo], and the project's variables: the reference gives project
// variables precedence over the buildspec), then CODEBUILD_SRC_DIR and
// CODEBUILD_BUILD_SUCCEEDING, which the runner maintains: 1 until a command
// fails, 0 after (build-env-ref-env-vars.md). Nothing of the Slipway
// server's own environment is passed on.
//
// # Shell session
//
// The reference says that in 0.2 "CodeBuild runs all build commands in the
// same instance of the default shell", so cd, exported and plain shell
// variables carry over from one command to the next and across phases.
// Slipway gets that behaviour without feeding one long-lived shell: each
// command runs in its own shell process, and the shell state travels
// between the processes.
//
//   - The runner writes the command to a file in the build's private state
//     directory (outside the source directory) and starts the shell on a
//     small wrapper script. The wrapper assigns the shell variables of the
//     previous command, sets an EXIT trap, and dot-sources the command file.
//     The exported variables travel as the process environment and the
//     working directory as the process's directory.
//   - The EXIT trap runs however the command ends: normally, with exit N, or
//     through set -e. It writes $PWD, export -p, and every variable that set
//     lists, NUL-separated, then a completion marker. The runner reads that
//     snapshot for the next command; values may hold any byte except NUL.
//   - Why not one long-lived shell fed the commands: a command's exit, exec
//     or syntax error would end the whole session, its stdin would be the
//     control stream, and the exit status and end of each command would have
//     to be recovered from in-band markers. With one process per command the
//     runner knows each exit code exactly, exit 1 fails only that command
//     (buildspecs use it: "[ $CODEBUILD_BUILD_SUCCEEDING = 1 ] || exit 1"),
//     and a syntax error fails only that command.
//   - Limits: shell functions, aliases, shell options (set -e, set -x), traps
//     and arrays (first element only) do not carry over; the shell's own
//     special variables (PPID, RANDOM, IFS, BASH_*, ...) are not restored. A
//     command that replaces the EXIT trap or runs exec leaves the previous
//     state in place.
//
// Every command and internal process joins one process group, led by an
// anchor process that lives for the whole build (so the group exists even
// between commands, and its ID cannot be reused before the runner reaps
// it). A timeout or cancellation of the context sends SIGTERM to the group,
// then SIGKILL after a grace period; at the end of every build the group is
// killed, which also stops background processes the build left behind.
// Processes that leave the group (setsid) escape this.
//
// Output: stdout and stderr of every command, and the runner's own
// "[Container] 2026/11/22 02:00:00 Running command npm test" lines, go
// through one pipe, so they reach Runner.Log in order while the build runs.
// One goroutine reads the pipe, redacts secrets (holding back only as many
// bytes as a secret could still straddle) and writes to the log and to the
// 2 KB tail.
//
// # Phase rules
//
//   - Phases run in the order install, pre_build, build, post_build,
//     whatever their order in the file (reference). A phase the file does not
//     declare succeeds with no commands, as in CodeBuild.
//   - Within a phase the commands run one at a time, in order; the first
//     failing command skips the remaining commands of the block, then the
//     finally block runs, whatever happened. The phase fails if any command
//     or finally command fails (reference, phases/*/finally). A failing
//     finally command also ends the finally block; the reference does not
//     say, and this mirrors the commands block.
//   - Without on-failure, the "Build phase transitions" apply: a failed
//     install or pre_build ends the build ("if a command fails during the
//     install phase, none of the commands in the pre_build, build, and
//     post_build phases are run", reference); after a failed build,
//     post_build still runs (the transitions diagram; P14 of the usage notes:
//     "The command specified in the post-build stage will run even if the
//     CodeBuild build fails"). A failed post_build fails the build.
//   - on-failure: CONTINUE goes on to the next phase; the failed phase stays
//     FAILED and so does the build. on-failure: ABORT ends the build, with no
//     further phases, not even post_build: the reference defines ABORT as
//     "abort the build" and the transitions as what happens when on-failure
//     is not specified.
//   - UPLOAD_ARTIFACTS (reports, then artifacts) follows post_build "even if
//     the BUILD phase fails" (phase transitions), but not after a failure
//     that ended the build early, nor after a timeout or stop. Artifact
//     patterns that match no file at all fail it with CodeBuild's
//     "CLIENT_ERROR: no matching artifact paths found"; each pattern that
//     matches nothing is logged as "Skipping invalid file path".
//   - exported-variables take their values at the end of the build, from
//     the session's final state, exported or not ("" when unset). They are
//     reported unless the build timed out or was stopped.
//   - A timeout or stop ends the build at once: no finally, no further
//     phase. The build status is TIMED_OUT or STOPPED.
//
// The build error message is CodeBuild's phase context message, for example
// "Error while executing command: npm test. Reason: exit status 1"; it names
// the first failing command and its exit code.
//
// # Artifacts
//
// Patterns are relative to base-directory (itself relative to the source
// directory, and possibly a glob such as 'my-build*' selecting several
// directories). * and ? match within one path element, ** matches any
// number of elements, and dots are not special, so '**/*' selects every
// file, hidden ones included. A pattern without glob characters, or ending
// in '/', that names a directory selects everything below it. exclude-paths
// removes files matched by a pattern, or below a directory matched by one.
// discard-paths places each file at the root of the artifact. Symbolic
// links are listed, not followed, and flagged for the packager, which keeps
// them as links only with enable-symlinks. The name may use shell
// expansions (myname-$(date +%Y-%m-%d)), evaluated with the final session
// state.
//
// # Reports
//
// JUnit XML: a <testsuites> or <testsuite> root, suites nested to any
// depth; each <testcase> passes unless it has a <failure> or <error> child
// (failed) or a <skipped> child (skipped); durations are the testcase time
// attributes, else the suites'. Cucumber JSON: an array of features; each
// scenario is a test case that fails when a step, a hook or its background
// fails, is skipped when a step is skipped, pending or undefined, and passes
// otherwise; step durations are nanoseconds. A file that cannot be read is
// reported in ReportResult.Err, never as a crash; a group with no readable
// file is INCOMPLETE.
package buildspec
