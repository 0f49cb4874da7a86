// Package fleet is the pure deployment planner for in-place EC2/on-premises
// deployments: given the stored state of one deployment (its configuration,
// its instances with their health and lifecycle event statuses, and the
// lifecycle event order), [Plan] returns the commands that move it forward:
// start or skip an instance's next lifecycle event, finish an instance,
// finish the deployment. It does no I/O; the runner applies the commands,
// dispatches started events to the hosts' agents, records their results and
// plans again.
//
// The rules follow the CodeDeploy reference (shared/reference/codedeploy.md):
//
//   - Minimum healthy hosts (§3.1): HOST_COUNT is a number of hosts;
//     FLEET_PERCENT is converted at deployment start to a host count,
//     "rounding up any fractional instances" ([MinHealthy]).
//   - Batch size (§3.2): at most total − minimum instances are in progress
//     at once; CodeDeployDefault.OneAtATime deploys to one instance at a
//     time (§3.1 table) ([BatchSize]).
//   - A deployment whose minimum is ≥ its number of instances "fails
//     immediately" with HEALTH_CONSTRAINTS_INVALID (§3.2, §10.2); one with
//     no instances fails with NO_INSTANCES (§10.3) ([CheckConstraints]).
//     OneAtATime is exempt from the minimum check: the reference gives it a
//     one-instance rule ("With exactly one instance, success only if that
//     instance succeeds").
//   - Scheduling order (§3.2): unhealthy instances first, then healthy ones
//     by revision health Unknown, Old, Current; ties keep the input order.
//   - Health during the deployment (§3.2): an instance in progress is
//     offline; one that succeeded is healthy; one that failed is unhealthy;
//     one not yet attempted keeps its health. A healthy instance is taken
//     offline only while the healthy instances still available exceed the
//     minimum by at least one, so their number never falls below it.
//     Deploying to an unhealthy instance takes nothing offline, which is
//     how a group that "initially has less than the specified minimum" is
//     deployed to without reducing its healthy instances any further.
//   - Success (§3.2): every instance was deployed to, at least one
//     succeeded, and at least the minimum succeeded (the HalfAtATime
//     "succeeds if deployed to at least half… rounded up" rule; for the
//     worked examples it is the healthy count at the end). OneAtATime: any
//     failure but on the last instance fails the deployment.
//   - Failure (§3.2, §8.2): as soon as success is no longer possible the
//     deployment stops scheduling, every instance not yet started ends
//     Skipped with all its lifecycle events Skipped, instances already in
//     progress run to their end, and the deployment ends Failed with
//     HEALTH_CONSTRAINTS.
//   - Stop (§6.7): "no more deployment lifecycle events are run"; events
//     already running finish, then an instance whose lifecycle is
//     incomplete ends Unknown ("indeterminate deployment state") with its
//     remaining events Skipped, instances not started end Skipped, and the
//     deployment ends Stopped. [StopStatus] gives the StopDeployment status
//     (Pending while events still run, then Succeeded).
//   - Lifecycle (§2.2–§2.3): an instance runs its events in order; a failed
//     event fails the instance and skips the rest, except that with
//     ignoreApplicationStopFailures a failure of ApplicationStop,
//     BeforeBlockTraffic or AfterBlockTraffic is passed over (§6.4). On the
//     first deployment to an instance those three events, which run the
//     previous successful revision's scripts, are skipped (§2.2).
//   - Health after the deployment (§3.2): [NextHealth].
//
// Rollbacks and redeployments are new deployments (§6.1) and plan the same
// way. With updateOutdatedInstancesOnly (§6.5) the caller leaves the
// up-to-date instances out of [State.Instances].
package fleet
