package fleet

import (
	"cmp"
	"maps"
	"slices"

	"github.com/slipway-cd/slipway/internal/cdapi"
)

// Status values used by the planner (the model's enums).
const (
	depInProgress = cdapi.DeploymentStatusInProgress
	depSucceeded  = cdapi.DeploymentStatusSucceeded
	depFailed     = cdapi.DeploymentStatusFailed
	depStopped    = cdapi.DeploymentStatusStopped

	instPending    = cdapi.InstanceStatusPending
	instInProgress = cdapi.InstanceStatusInProgress
	instSucceeded  = cdapi.InstanceStatusSucceeded
	instFailed     = cdapi.InstanceStatusFailed
	instSkipped    = cdapi.InstanceStatusSkipped
	instUnknown    = cdapi.InstanceStatusUnknown

	evPending    = cdapi.LifecycleEventStatusPending
	evInProgress = cdapi.LifecycleEventStatusInProgress
	evSucceeded  = cdapi.LifecycleEventStatusSucceeded
	evSkipped    = cdapi.LifecycleEventStatusSkipped
)

// State is everything the planner reads about one in-place deployment.
type State struct {
	Config                        Config
	IgnoreApplicationStopFailures bool
	// Status is the DeploymentStatus; only InProgress deployments are
	// planned.
	Status string
	// Stop, when set, is a request to stop the deployment (StopDeployment,
	// or an alarm), with the error information it ends with (for example
	// MANUAL_STOP or ALARM_ACTIVE).
	Stop *StopRequest
	// Order lists the deployment's lifecycle events in run order, for
	// example InPlaceOrder(false).
	Order []string
	// Instances are the instances in the deployment, each exactly once.
	Instances []*Instance
}

// StopRequest asks for a deployment to stop; ErrorCode and Message become
// its errorInformation.
type StopRequest struct{ ErrorCode, Message string }

// Instance is one instance of a deployment.
type Instance struct {
	ID string
	// Status is the InstanceStatus: Pending, InProgress, Succeeded, Failed,
	// Skipped or Unknown; "" reads as Pending.
	Status string
	// Health is the instance's health in the deployment group when the
	// deployment started; see Health.
	Health Health
	// FirstDeployment is true when the instance has no previous successful
	// revision in the deployment group, so the events that run that
	// revision's scripts are skipped (§2.2).
	FirstDeployment bool
	// Events holds the LifecycleEventStatus of each event of State.Order
	// (Pending, InProgress, Succeeded, Failed, Skipped or Unknown); a
	// missing event is Pending.
	Events map[string]string
}

// EventStatus returns the status of one of the instance's lifecycle events.
func (in *Instance) EventStatus(event string) string {
	return cmp.Or(in.Events[event], evPending)
}

// NextEvent returns the instance's next lifecycle event in order: the first
// one that is InProgress or Pending, or "" when none is.
func (in *Instance) NextEvent(order []string) string {
	for _, ev := range order {
		if s := in.EventStatus(ev); s == evPending || s == evInProgress {
			return ev
		}
	}
	return ""
}

// status returns the instance's status with "" read as Pending.
func (in *Instance) status() string { return cmp.Or(in.Status, instPending) }

// Command is one step the runner applies to the stored state.
type Command interface{ command() }

// StartEvent starts an instance's next lifecycle event: the runner hands it
// to the instance's agent (or runs it itself for the reserved traffic
// events). Starting an instance's first event puts the instance InProgress.
type StartEvent struct{ Instance, Event string }

// SkipEvent marks a lifecycle event of an instance Skipped.
type SkipEvent struct{ Instance, Event string }

// FinishInstance ends an instance with Status (Succeeded, Failed, Skipped or
// Unknown).
type FinishInstance struct{ Instance, Status string }

// FinishDeployment ends the deployment with Status (Succeeded, Failed or
// Stopped) and, unless it succeeded, its error information. Health holds
// every instance's health after the deployment (NextHealth), by instance
// ID; on success the deployment group's revision becomes the deployment's.
type FinishDeployment struct {
	Status, ErrorCode, Message string
	Health                     map[string]Health
}

func (StartEvent) command()       {}
func (SkipEvent) command()        {}
func (FinishInstance) command()   {}
func (FinishDeployment) command() {}

// maxPasses bounds the planner's fixpoint loop; each pass makes progress.
const maxPasses = 1000

// Plan returns the commands that bring the deployment forward, in the order
// the runner must apply them. It is pure: st is not modified. Planning the
// state that results from applying the commands returns nothing: the
// deployment then waits for lifecycle event results. The rules are in the
// package documentation.
func Plan(st *State) []Command {
	if st.Status != depInProgress {
		return nil
	}
	p := newPlanner(st)
	for range maxPasses {
		n := len(p.out)
		p.pass()
		if len(p.out) == n {
			break
		}
	}
	return p.out
}

// StopStatus returns the status a StopDeployment call reports for the
// deployment (§6.7): Pending while lifecycle events still run ("events may
// still be running"), Succeeded when none does ("no more deployment
// lifecycle events are run").
func StopStatus(st *State) string {
	for _, in := range st.Instances {
		for _, s := range in.Events {
			if s == evInProgress {
				return cdapi.StopStatusPending
			}
		}
	}
	return cdapi.StopStatusSucceeded
}

type planner struct {
	st      *State // the planner's copy, updated as commands are emitted
	byID    map[string]*Instance
	invalid *ConstraintError // why the deployment cannot start, if it cannot
	min     int              // minimum healthy instances
	batch   int              // maximum instances in progress
	out     []Command
}

func newPlanner(st *State) *planner {
	p := &planner{st: clone(st), byID: map[string]*Instance{}}
	for _, in := range p.st.Instances {
		p.byID[in.ID] = in
	}
	total := len(p.st.Instances)
	if err := CheckConstraints(total, p.st.Config); err != nil {
		p.invalid = err.(*ConstraintError)
		return p
	}
	p.min, _ = MinHealthy(total, p.st.Config)
	p.batch, _ = BatchSize(total, p.st.Config)
	return p
}

// clone deep-copies a state.
func clone(st *State) *State {
	c := *st
	if st.Stop != nil {
		s := *st.Stop
		c.Stop = &s
	}
	c.Order = slices.Clone(st.Order)
	c.Instances = slices.Clone(st.Instances)
	for i, in := range c.Instances {
		x := *in
		x.Events = maps.Clone(in.Events)
		c.Instances[i] = &x
	}
	return &c
}

// emit records a command and applies it to the planner's copy.
func (p *planner) emit(c Command) {
	p.out = append(p.out, c)
	apply(p.st, p.byID, c)
}

// apply records a command's effect in a state; byID indexes its instances.
func apply(st *State, byID map[string]*Instance, c Command) {
	switch c := c.(type) {
	case StartEvent:
		in := byID[c.Instance]
		setEvent(in, c.Event, evInProgress)
		if in.status() == instPending {
			in.Status = instInProgress
		}
	case SkipEvent:
		setEvent(byID[c.Instance], c.Event, evSkipped)
	case FinishInstance:
		byID[c.Instance].Status = c.Status
	case FinishDeployment:
		st.Status = c.Status
	}
}

func setEvent(in *Instance, event, status string) {
	if in.Events == nil {
		in.Events = map[string]string{}
	}
	in.Events[event] = status
}

// pass makes one round of decisions: it moves the instances in progress
// along, then either schedules more instances or winds the deployment down,
// and finishes the deployment when no instance is left to run.
func (p *planner) pass() {
	if p.st.Status != depInProgress {
		return
	}
	stopping := p.st.Stop != nil
	for _, in := range p.st.Instances {
		if in.status() == instInProgress {
			p.advance(in, !stopping)
		}
	}
	c := p.count()
	if stopping || p.invalid != nil || p.doomed(c) {
		p.skipPending()
	} else {
		p.schedule(c)
	}
	if c = p.count(); c.pending == 0 && c.inProgress == 0 {
		p.finish(c)
	}
}

// advance moves an instance through its lifecycle events in order: it
// skips the events that do not apply, starts the next one, or finishes the
// instance. A failed event fails the instance and skips the rest, unless
// ignoreApplicationStopFailures covers it. With start false (a stop was
// requested) nothing starts: an instance with events left ends Unknown.
func (p *planner) advance(in *Instance, start bool) {
	for i, ev := range p.st.Order {
		switch in.EventStatus(ev) {
		case evSucceeded, evSkipped:
		case evInProgress:
			return // wait for the agent's result
		case evPending:
			switch {
			case in.FirstDeployment && UsesPreviousRevision(ev):
				p.emit(SkipEvent{in.ID, ev})
			case !start:
				p.skipFrom(in, i)
				p.emit(FinishInstance{in.ID, instUnknown})
				return
			default:
				p.emit(StartEvent{in.ID, ev})
				return
			}
		default: // Failed or Unknown
			if p.st.IgnoreApplicationStopFailures && UsesPreviousRevision(ev) {
				continue
			}
			p.skipFrom(in, i+1)
			p.emit(FinishInstance{in.ID, instFailed})
			return
		}
	}
	p.emit(FinishInstance{in.ID, instSucceeded})
}

// skipFrom skips the instance's pending events from position i of the order.
func (p *planner) skipFrom(in *Instance, i int) {
	for _, ev := range p.st.Order[i:] {
		if in.EventStatus(ev) == evPending {
			p.emit(SkipEvent{in.ID, ev})
		}
	}
}

// skipPending ends every instance not yet started Skipped, with all its
// lifecycle events Skipped.
func (p *planner) skipPending() {
	for _, in := range p.st.Instances {
		if in.status() == instPending {
			p.skipFrom(in, 0)
			p.emit(FinishInstance{in.ID, instSkipped})
		}
	}
}

// schedule starts pending instances in health order while the batch size
// allows and, for a healthy instance, while taking it offline keeps the
// available healthy instances at the minimum or above. Deploying to an
// unhealthy instance takes nothing offline.
func (p *planner) schedule(c counts) {
	inProgress, available := c.inProgress, c.available
	for _, in := range p.pending() {
		healthy := in.Health.IsHealthy()
		if inProgress >= p.batch || healthy && !p.st.Config.OneAtATime && available-1 < p.min {
			return // later instances are healthy too: keep the order
		}
		p.advance(in, true)
		inProgress++
		if healthy {
			available--
		}
	}
}

// pending returns the instances not yet started in scheduling order.
func (p *planner) pending() []*Instance {
	var out []*Instance
	for _, in := range p.st.Instances {
		if in.status() == instPending {
			out = append(out, in)
		}
	}
	slices.SortStableFunc(out, func(a, b *Instance) int { return cmp.Compare(a.Health.rank(), b.Health.rank()) })
	return out
}

// counts summarizes the instances of the deployment.
type counts struct {
	total, pending, pendingHealthy, inProgress int
	succeeded, failed, skipped                 int
	available                                  int // healthy and not offline
}

func (p *planner) count() counts {
	c := counts{total: len(p.st.Instances)}
	for _, in := range p.st.Instances {
		switch in.status() {
		case instPending:
			c.pending++
			if in.Health.IsHealthy() {
				c.pendingHealthy++
				c.available++
			}
		case instInProgress:
			c.inProgress++
		case instSucceeded:
			c.succeeded++
			c.available++
		case instSkipped:
			c.skipped++
		default: // Failed, Unknown
			c.failed++
		}
	}
	return c
}

// doomed reports whether the deployment can no longer succeed. Once true it
// stays true: failures only grow, and the pending instances it skips count.
//
//   - An instance was skipped: success needs that "CodeDeploy is able to
//     deploy to each instance".
//   - OneAtATime: no success is left possible ("Deployment to at least one
//     instance must succeed"), or an instance but the last failed ("fails as
//     soon as the application revision fails to be deployed to any but the
//     last instance").
//   - Otherwise: fewer than the minimum (and than one) instances can still
//     succeed, or a healthy instance is left that can never be taken
//     offline: even if every instance in progress and every unhealthy one
//     succeeds, the healthy instances will not exceed the minimum ("If the
//     number of healthy instances falls to the specified minimum number at
//     any point… CodeDeploy stops the deployment").
func (p *planner) doomed(c counts) bool {
	if c.skipped > 0 {
		return true
	}
	canSucceed := c.total - c.failed // instances not failed
	if p.st.Config.OneAtATime {
		return canSucceed < 1 || c.failed > 1 || c.failed == 1 && c.pending+c.inProgress > 0
	}
	return canSucceed < max(p.min, 1) || c.pendingHealthy > 0 && canSucceed <= p.min
}

// finish ends the deployment once no instance is pending or in progress.
func (p *planner) finish(c counts) {
	f := FinishDeployment{Status: depSucceeded}
	switch {
	case p.st.Stop != nil:
		f = FinishDeployment{Status: depStopped, ErrorCode: p.st.Stop.ErrorCode, Message: p.st.Stop.Message}
	case p.invalid != nil:
		f = FinishDeployment{Status: depFailed, ErrorCode: p.invalid.Code, Message: p.invalid.Message}
	case p.doomed(c):
		f = FinishDeployment{Status: depFailed, ErrorCode: cdapi.ErrorCodeHealthConstraints, Message: MessageHealthConstraints}
	}
	f.Health = make(map[string]Health, len(p.st.Instances))
	for _, in := range p.st.Instances {
		f.Health[in.ID] = NextHealth(in.Health, in.status(), f.Status)
	}
	p.emit(f)
}
