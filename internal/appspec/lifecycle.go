package appspec

// Event is the name of a deployment lifecycle event (codedeploy.md §2.2).
type Event string

// The EC2/on-premises lifecycle events (codedeploy.md §2.2). The agent runs
// DownloadBundle and Install itself; BlockTraffic and AllowTraffic run on
// the service side; none of these four can run scripts.
const (
	ApplicationStop    Event = "ApplicationStop"
	DownloadBundle     Event = "DownloadBundle"
	BeforeInstall      Event = "BeforeInstall"
	Install            Event = "Install"
	AfterInstall       Event = "AfterInstall"
	ApplicationStart   Event = "ApplicationStart"
	ValidateService    Event = "ValidateService"
	BeforeBlockTraffic Event = "BeforeBlockTraffic"
	BlockTraffic       Event = "BlockTraffic"
	AfterBlockTraffic  Event = "AfterBlockTraffic"
	BeforeAllowTraffic Event = "BeforeAllowTraffic"
	AllowTraffic       Event = "AllowTraffic"
	AfterAllowTraffic  Event = "AfterAllowTraffic"
)

// DeploymentOrder returns the events of an in-place deployment without a
// load balancer, in the order they run (codedeploy.md §2.3, §2.4):
// ApplicationStop, DownloadBundle, BeforeInstall, Install, AfterInstall,
// ApplicationStart, ValidateService. The slice is new on every call.
func DeploymentOrder() []Event {
	return []Event{
		ApplicationStop, DownloadBundle, BeforeInstall, Install,
		AfterInstall, ApplicationStart, ValidateService,
	}
}

// LoadBalancerOrder returns the events of an in-place deployment whose
// deployment group has a load balancer, in the order they run
// (codedeploy.md §2.3): DeploymentOrder wrapped by the block-traffic and
// allow-traffic events. The slice is new on every call.
func LoadBalancerOrder() []Event {
	order := []Event{BeforeBlockTraffic, BlockTraffic, AfterBlockTraffic}
	order = append(order, DeploymentOrder()...)
	return append(order, BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic)
}

// ScriptableEvents returns the nine events an AppSpec hooks section may
// name, in run order. They are the agent's hook commands
// (command_poller.rb DEFAULT_HOOK_MAPPING, api.md §6.7). The slice is new on
// every call.
func ScriptableEvents() []Event {
	return []Event{
		BeforeBlockTraffic, AfterBlockTraffic, ApplicationStop,
		BeforeInstall, AfterInstall, ApplicationStart, ValidateService,
		BeforeAllowTraffic, AfterAllowTraffic,
	}
}

// Scriptable reports whether hook scripts may be attached to e.
func (e Event) Scriptable() bool {
	switch e {
	case ApplicationStop, BeforeInstall, AfterInstall, ApplicationStart,
		ValidateService, BeforeBlockTraffic, AfterBlockTraffic,
		BeforeAllowTraffic, AfterAllowTraffic:
		return true
	}
	return false
}

// Reserved reports whether e is run by the agent or the service and cannot
// run scripts: DownloadBundle, Install, BlockTraffic and AllowTraffic, and
// the pseudo-events Start and End (codedeploy.md §2.2).
func (e Event) Reserved() bool {
	switch e {
	case DownloadBundle, Install, BlockTraffic, AllowTraffic, "Start", "End":
		return true
	}
	return false
}

// UsesLastSuccessfulRevision reports whether e runs the scripts of the
// previous successful revision's AppSpec file rather than the one being
// deployed: ApplicationStop, BeforeBlockTraffic and AfterBlockTraffic
// (codedeploy.md §2.2; hook_executor.rb, api.md §6.7). On the first
// deployment to an instance there is no such revision and they do nothing.
func (e Event) UsesLastSuccessfulRevision() bool {
	switch e {
	case ApplicationStop, BeforeBlockTraffic, AfterBlockTraffic:
		return true
	}
	return false
}

// String returns the event name.
func (e Event) String() string { return string(e) }
