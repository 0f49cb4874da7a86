package fleet

// Lifecycle event names of EC2/on-premises deployments (codedeploy.md §2.2).
const (
	// EventBeforeBlockTraffic runs before the instance is deregistered from
	// its load balancer, with the previous successful revision's scripts.
	EventBeforeBlockTraffic = "BeforeBlockTraffic"
	// EventBlockTraffic deregisters the instance from its load balancer
	// (reserved: no scripts).
	EventBlockTraffic = "BlockTraffic"
	// EventAfterBlockTraffic runs after deregistration, with the previous
	// successful revision's scripts.
	EventAfterBlockTraffic = "AfterBlockTraffic"
	// EventApplicationStop stops the application, with the previous
	// successful revision's scripts.
	EventApplicationStop = "ApplicationStop"
	// EventDownloadBundle copies the revision to the instance (reserved).
	EventDownloadBundle = "DownloadBundle"
	// EventBeforeInstall runs pre-install tasks.
	EventBeforeInstall = "BeforeInstall"
	// EventInstall copies the revision's files to their destinations
	// (reserved).
	EventInstall = "Install"
	// EventAfterInstall configures the installed application.
	EventAfterInstall = "AfterInstall"
	// EventApplicationStart starts the application.
	EventApplicationStart = "ApplicationStart"
	// EventValidateService verifies the deployment.
	EventValidateService = "ValidateService"
	// EventBeforeAllowTraffic runs before the instance is registered with
	// its load balancer.
	EventBeforeAllowTraffic = "BeforeAllowTraffic"
	// EventAllowTraffic registers the instance with its load balancer
	// (reserved).
	EventAllowTraffic = "AllowTraffic"
	// EventAfterAllowTraffic runs after registration.
	EventAfterAllowTraffic = "AfterAllowTraffic"
)

// InPlaceOrder returns the lifecycle events of an in-place deployment (and
// of an in-place rollback) in run order (§2.3), without the pseudo-events
// Start and End. Without a load balancer the six traffic events are left
// out. The result is a new slice.
func InPlaceOrder(loadBalanced bool) []string {
	core := []string{
		EventApplicationStop, EventDownloadBundle, EventBeforeInstall, EventInstall,
		EventAfterInstall, EventApplicationStart, EventValidateService,
	}
	if !loadBalanced {
		return core
	}
	out := []string{EventBeforeBlockTraffic, EventBlockTraffic, EventAfterBlockTraffic}
	out = append(out, core...)
	return append(out, EventBeforeAllowTraffic, EventAllowTraffic, EventAfterAllowTraffic)
}

// UsesPreviousRevision reports whether event runs the scripts of the
// previous successful revision: ApplicationStop, BeforeBlockTraffic and
// AfterBlockTraffic (§2.2). These events are skipped on the first deployment
// to an instance, and their failures are passed over with
// ignoreApplicationStopFailures (§6.4).
func UsesPreviousRevision(event string) bool {
	switch event {
	case EventApplicationStop, EventBeforeBlockTraffic, EventAfterBlockTraffic:
		return true
	}
	return false
}
