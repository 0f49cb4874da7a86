package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/fleet"
	"github.com/slipway-cd/slipway/internal/store"
)

// Config tunes the runner; zero fields take the defaults.
type Config struct {
	// AgentLease is how long an instance's agent may go without polling
	// while one of its lifecycle events is in progress before the event
	// fails with AGENT_ISSUE (default 30 s).
	AgentLease time.Duration
	// Sweep is how often every active deployment is reconciled (default
	// the smaller of 5 s and AgentLease/2).
	Sweep time.Duration
	// PollWait bounds a PollHostCommand long poll (default 20 s).
	PollWait time.Duration
}

func (c Config) withDefaults() Config {
	if c.AgentLease <= 0 {
		c.AgentLease = 30 * time.Second
	}
	if c.Sweep <= 0 {
		c.Sweep = min(5*time.Second, c.AgentLease/2)
	}
	if c.PollWait <= 0 {
		c.PollWait = 20 * time.Second
	}
	return c
}

// Runner reconciles deployments and wakes the agents' long polls.
type Runner struct {
	store  store.Store
	cfg    Config
	logger *slog.Logger
	Now    func() time.Time // defaults to time.Now
	// Region and AccountID fill the trigger notifications (default
	// region us-east-1).
	Region    string
	AccountID string
	started   time.Time

	mu       sync.Mutex
	kicked   map[string]bool
	wake     chan struct{}
	sweepNow bool                     // a resync asked for a sweep
	seen     map[string]time.Time     // instance → last poll here
	recorded map[string]time.Time     // instance → last poll written to the store from here
	hosts    map[string]chan struct{} // instance → closed when a command is ready

	targets targetCache // decoded target documents of active deployments
}

// Store notification channels ([store.Store.Subscribe]) through which
// runners on every server sharing the database wake each other.
const (
	// ChannelDeployments carries the ID of a deployment to reconcile.
	ChannelDeployments = "deploy.deployments"
	// ChannelHosts carries the name of an instance that may have a
	// command, to end its agent's long poll on whichever server it is.
	ChannelHosts = "deploy.hosts"
)

// publishTimeout bounds a wake-up's round trip to the database; a lost
// wake-up costs one sweep (or one long poll).
const publishTimeout = 5 * time.Second

// New returns a runner over st. Its subscriptions to st's notifications
// last as long as st.
func New(st store.Store, cfg Config, logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{store: st, cfg: cfg.withDefaults(), logger: logger, started: time.Now(),
		kicked: map[string]bool{}, wake: make(chan struct{}, 1), seen: map[string]time.Time{},
		recorded: map[string]time.Time{}, hosts: map[string]chan struct{}{}}
	st.Subscribe(ChannelDeployments, func(n store.Notification) {
		if n.Resync {
			r.mu.Lock()
			r.sweepNow = true
			r.mu.Unlock()
			r.signal()
			return
		}
		r.markKicked(n.Payload)
	})
	st.Subscribe(ChannelHosts, func(n store.Notification) {
		if n.Resync {
			r.wakeAllHosts()
			return
		}
		r.wakeHosts(n.Payload)
	})
	return r
}

// Config returns the runner's configuration with defaults filled in.
func (r *Runner) Config() Config { return r.cfg }

func (r *Runner) now() time.Time {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	return time.UnixMilli(now().UnixMilli()).UTC()
}

// Kick asks the runners of every server on the database to reconcile
// deployments soon (through the store's notifications; see
// engine.Engine.Kick).
func (r *Runner) Kick(ids ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	for _, id := range ids {
		if err := r.store.Publish(ctx, ChannelDeployments, id); err != nil {
			r.logger.Warn("publish deployment wake-up; other servers see it at their next sweep", "deployment", id, "err", err)
			r.markKicked(id)
		}
	}
}

// markKicked asks this runner to reconcile deployments.
func (r *Runner) markKicked(ids ...string) {
	r.mu.Lock()
	for _, id := range ids {
		r.kicked[id] = true
	}
	r.mu.Unlock()
	r.signal()
}

func (r *Runner) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Seen records that an instance's agent is polling now: in memory, and
// in the store (at most every quarter of the agent lease per instance),
// where the runners of every server read it.
func (r *Runner) Seen(ctx context.Context, instance string) {
	now := time.Now()
	r.mu.Lock()
	r.seen[instance] = now
	due := now.Sub(r.recorded[instance]) >= r.cfg.AgentLease/4
	if due {
		r.recorded[instance] = now
	}
	r.mu.Unlock()
	if !due {
		return
	}
	// Also at the end of a poll whose client has gone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := r.store.RecordAgentSeen(ctx, instance, now); err != nil {
		r.logger.Warn("record agent poll", "instance", instance, "err", err)
		r.mu.Lock()
		delete(r.recorded, instance) // try again at the next poll
		r.mu.Unlock()
	}
}

// lastSeen is when instance's agent last polled any server: the later of
// this server's memory and the store, and at least when this runner
// started (an agent gets a full lease after a restart).
func (r *Runner) lastSeen(ctx context.Context, q store.Queries, instance string) (time.Time, error) {
	r.mu.Lock()
	t := r.seen[instance]
	r.mu.Unlock()
	stored, err := q.AgentSeen(ctx, instance)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return time.Time{}, err
	case stored.After(t):
		t = stored
	}
	if r.started.After(t) {
		t = r.started
	}
	return t, nil
}

// HostWait returns a channel closed when a command may be ready for the
// instance (WakeHost).
func (r *Runner) HostWait(instance string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.hosts[instance]
	if !ok {
		ch = make(chan struct{})
		r.hosts[instance] = ch
	}
	return ch
}

// WakeHost wakes the long polls of instances, on every server on the
// database (through the store's notifications).
func (r *Runner) WakeHost(instances ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	for _, in := range instances {
		if err := r.store.Publish(ctx, ChannelHosts, in); err != nil {
			r.logger.Warn("publish host wake-up; an agent polling another server gets its command at its next poll", "instance", in, "err", err)
			r.wakeHosts(in)
		}
	}
}

// wakeHosts wakes this server's long polls of instances.
func (r *Runner) wakeHosts(instances ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, in := range instances {
		if ch, ok := r.hosts[in]; ok {
			close(ch)
			delete(r.hosts, in)
		}
	}
}

// wakeAllHosts wakes every long poll on this server: wake-ups may have
// been missed.
func (r *Runner) wakeAllHosts() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for in, ch := range r.hosts {
		close(ch)
		delete(r.hosts, in)
	}
}

// Run reconciles kicked deployments as they come and every active
// deployment each sweep until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Sweep)
	defer t.Stop()
	r.sweep(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			r.sweep(ctx)
		case <-r.wake:
		}
		r.mu.Lock()
		sweepNow := r.sweepNow
		r.sweepNow = false
		r.mu.Unlock()
		if sweepNow {
			r.sweep(ctx)
		}
		r.mu.Lock()
		ids := make([]string, 0, len(r.kicked))
		for id := range r.kicked {
			ids = append(ids, id)
		}
		clear(r.kicked)
		r.mu.Unlock()
		slices.Sort(ids)
		for _, id := range ids {
			r.reconcileLogged(ctx, id)
		}
	}
}

func (r *Runner) sweep(ctx context.Context) {
	ds, err := r.store.ListDeployments(ctx, store.DeploymentFilter{ActiveOnly: true})
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Error("deploy sweep", "err", err)
		}
		return
	}
	active := make(map[string]bool, len(ds))
	for _, d := range ds {
		active[d.ID] = true
	}
	r.targets.keepOnly(active) // deployments that ended on other servers
	for _, d := range ds {
		r.reconcileLogged(ctx, d.ID)
	}
}

func (r *Runner) reconcileLogged(ctx context.Context, id string) {
	if err := r.Reconcile(ctx, id); err != nil && ctx.Err() == nil {
		r.logger.Error("reconcile deployment", "deployment", id, "err", err)
	}
}

// ErrGroupBusy reports a group that already has an active deployment.
type ErrGroupBusy struct{ Group, DeploymentID string }

func (e *ErrGroupBusy) Error() string {
	return fmt.Sprintf("The Deployment Group '%s' is already deploying deployment '%s'", e.Group, e.DeploymentID)
}

// Request is a deployment to insert.
type Request struct {
	Group     *store.DeploymentGroup
	Instances []string // the instances the group selects, in order
	Detail    Detail   // Group, Application and GroupID are filled from Group
	// Queue, when the group has an active deployment, inserts this one
	// with status Queued instead of returning *ErrGroupBusy; it starts
	// when the active one ends, and it supersedes (stops) any deployment
	// of the group already queued, so at most one waits.
	Queue bool
}

// Insert creates a deployment (status Created) with its targets inside the
// caller's transaction; the caller kicks it after commit. It returns
// *ErrGroupBusy when the group has an active deployment. With
// UpdateOutdatedInstancesOnly, instances whose last successful revision
// is this one and that are healthy are left out.
func (r *Runner) Insert(ctx context.Context, q store.Queries, req *Request) (*store.Deployment, error) {
	g := req.Group
	active, err := q.ListDeployments(ctx, store.DeploymentFilter{Application: g.Application, GroupName: g.Name, ActiveOnly: true})
	if err != nil {
		return nil, err
	}
	queued := false
	if len(active) > 0 {
		if !req.Queue {
			return nil, &ErrGroupBusy{Group: g.Name, DeploymentID: active[0].ID}
		}
		queued = true
	}
	det := req.Detail
	det.Application, det.Group, det.GroupID = g.Application, g.Name, g.ID
	if det.Creator == "" {
		det.Creator = CreatorUser
	}
	if len(det.Order) == 0 {
		det.Order = fleet.InPlaceOrder(false)
	}
	info, err := groupInfo(g)
	if err != nil {
		return nil, err
	}
	det.Triggers = info.TriggerConfigurations
	if info.LastSuccessfulDeployment != nil && info.LastSuccessfulDeployment.DeploymentId != "" {
		if prev, err := q.GetDeployment(ctx, info.LastSuccessfulDeployment.DeploymentId); err == nil {
			if pd, err := DecodeDetail(prev); err == nil {
				det.PreviousRevision = pd.Revision
			}
		}
	}
	gis, err := q.ListGroupInstances(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	states := map[string]*GroupInstance{}
	for _, gi := range gis {
		if s, err := decode[GroupInstance](gi.Detail, "group instance"); err == nil {
			states[gi.Instance] = s
		}
	}
	now := r.now()
	d := &store.Deployment{ID: NewID(), Application: g.Application, GroupName: g.Name, GroupID: g.ID,
		Status: cdapi.DeploymentStatusCreated, Active: true, Created: now, Updated: now}
	if queued {
		// A queued deployment is not active: reconciling and the group's
		// busy check ignore it until startQueued makes it Created.
		d.Status, d.Active = cdapi.DeploymentStatusQueued, false
	}
	for _, name := range req.Instances {
		st := states[name]
		if st == nil {
			st = &GroupInstance{}
		}
		if det.UpdateOutdatedInstancesOnly && st.Deployed && st.RevisionKey == det.RevisionKey && st.Health.IsHealthy() {
			continue
		}
		t := &Target{Health: st.Health, FirstDeployment: !st.Deployed}
		for _, ev := range det.Order {
			t.Events = append(t.Events, &Event{Name: ev, Status: cdapi.LifecycleEventStatusPending})
		}
		if err := q.PutDeploymentTarget(ctx, &store.DeploymentTarget{DeploymentID: d.ID, Instance: name,
			Status: cdapi.InstanceStatusPending, Updated: now, Detail: encode(t)}); err != nil {
			return nil, err
		}
	}
	d.Detail = encode(&det)
	if err := q.CreateDeployment(ctx, d); err != nil {
		return nil, err
	}
	if det.RevisionKey != "" {
		if err := q.MarkApplicationRevisionUsed(ctx, g.Application, det.RevisionKey, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if queued {
		// The group's last attempted deployment and target revision change
		// when the queued deployment starts.
		return d, r.supersede(ctx, q, g, d.ID, now)
	}
	// The group's target revision is the one deployed last ("deployed"
	// revisions in ListApplicationRevisions).
	info.TargetRevision = det.Revision
	info.LastAttemptedDeployment = &cdapi.LastDeploymentInfo{DeploymentId: d.ID, Status: d.Status, CreateTime: awsproto.NewTime(now)}
	if err := saveGroupInfo(ctx, q, g, info); err != nil {
		return nil, err
	}
	return d, nil
}

func groupInfo(g *store.DeploymentGroup) (*cdapi.DeploymentGroupInfo, error) {
	var info cdapi.DeploymentGroupInfo
	if len(g.Info) > 0 {
		if err := json.Unmarshal(g.Info, &info); err != nil {
			return nil, fmt.Errorf("decode deployment group %q: %w", g.Name, err)
		}
	}
	return &info, nil
}

func saveGroupInfo(ctx context.Context, q store.Queries, g *store.DeploymentGroup, info *cdapi.DeploymentGroupInfo) error {
	info.ApplicationName, info.DeploymentGroupName, info.DeploymentGroupId = g.Application, g.Name, g.ID
	info.DeploymentConfigName = g.ConfigName
	g.Info = encode(info)
	g.Updated = time.Time{}
	return q.UpdateDeploymentGroup(ctx, g.Name, g)
}

// ErrCompleted reports a deployment that already finished.
var ErrCompleted = errors.New("deploy: deployment already completed")

// Stop requests a deployment to stop (§6.7); with rollback, the group's
// last successful revision is redeployed once it has stopped. It returns
// the StopDeployment status (Pending or Succeeded).
func (r *Runner) Stop(ctx context.Context, id string, rollback bool) (string, error) {
	var status string
	err := r.store.InTx(ctx, func(q store.Queries) error {
		d, err := q.GetDeployment(ctx, id)
		if err != nil {
			return err
		}
		if d.Status == cdapi.DeploymentStatusQueued {
			status = cdapi.StopStatusSucceeded
			return r.endQueued(ctx, q, d, cdapi.ErrorCodeManualStop, "The deployment was stopped by a user (StopDeployment) while it was queued.", r.now())
		}
		if !d.Active {
			return ErrCompleted
		}
		det, err := DecodeDetail(d)
		if err != nil {
			return err
		}
		if det.Stop == nil {
			det.Stop = &fleet.StopRequest{ErrorCode: cdapi.ErrorCodeManualStop, Message: "The deployment was stopped by a user (StopDeployment)."}
			det.StopRollback = rollback
		}
		st, _, err := r.loadState(ctx, q, d, det)
		if err != nil {
			return err
		}
		status = fleet.StopStatus(st)
		d.Detail, d.Updated = encode(det), r.now()
		return q.UpdateDeployment(ctx, d)
	})
	if err != nil {
		return "", err
	}
	r.Kick(id)
	return status, nil
}

type targetRow struct {
	row *store.DeploymentTarget
	doc *Target
}

// loadState builds the planner's state of a deployment from its rows. The
// target documents come from the runner's cache when their JSON has not
// changed since they were last decoded; each is the caller's to change.
func (r *Runner) loadState(ctx context.Context, q store.Queries, d *store.Deployment, det *Detail) (*fleet.State, map[string]*targetRow, error) {
	rows, err := q.ListDeploymentTargets(ctx, d.ID)
	if err != nil {
		return nil, nil, err
	}
	st := &fleet.State{Config: det.Config, IgnoreApplicationStopFailures: det.IgnoreApplicationStopFailures,
		Status: d.Status, Stop: det.Stop, Order: det.Order}
	if st.Status == cdapi.DeploymentStatusCreated {
		st.Status = cdapi.DeploymentStatusInProgress
	}
	targets := map[string]*targetRow{}
	for _, row := range rows {
		doc, err := r.targets.decode(row)
		if err != nil {
			return nil, nil, err
		}
		targets[row.Instance] = &targetRow{row, doc}
		in := &fleet.Instance{ID: row.Instance, Status: row.Status, Health: doc.Health, FirstDeployment: doc.FirstDeployment, Events: map[string]string{}}
		for _, e := range doc.Events {
			in.Events[e.Name] = e.Status
		}
		st.Instances = append(st.Instances, in)
	}
	return st, targets, nil
}

// Reconcile moves one deployment forward in one transaction.
func (r *Runner) Reconcile(ctx context.Context, id string) error {
	var kick, wake []string
	err := r.store.InTx(ctx, func(q store.Queries) error {
		var err error
		kick, wake, err = r.reconcile(ctx, q, id)
		return err
	})
	if err != nil {
		return err
	}
	r.WakeHost(wake...)
	r.Kick(kick...)
	return nil
}

func (r *Runner) reconcile(ctx context.Context, q store.Queries, id string) (kick, wake []string, _ error) {
	d, err := q.GetDeployment(ctx, id)
	if err == nil && !d.Active {
		r.targets.forget(id)
	}
	if err != nil || !d.Active {
		return nil, nil, err
	}
	det, err := DecodeDetail(d)
	if err != nil {
		return nil, nil, err
	}
	now := r.now()
	started := false
	if d.Status == cdapi.DeploymentStatusCreated {
		d.Status = cdapi.DeploymentStatusInProgress
		det.Started = now
		started = true
		r.logger.InfoContext(ctx, "deployment started", "deployment", d.ID, "group", d.GroupName)
	}
	st, targets, err := r.loadState(ctx, q, d, det)
	if err != nil {
		return nil, nil, err
	}
	if started {
		if err := r.deploymentTrigger(ctx, q, d, det, targets, cdapi.TriggerEventTypeDeploymentStart, now); err != nil {
			return nil, nil, err
		}
	}
	type instanceEvent struct{ instance, event string }
	var instanceEvents []instanceEvent
	dirty := map[string]bool{}

	// Agent liveness: an event in progress whose agent has not polled
	// within the lease fails.
	for _, in := range st.Instances {
		tr := targets[in.ID]
		for _, e := range tr.doc.Events {
			// An event younger than the lease cannot have outlived it:
			// the agent's last poll is read only for older ones.
			if e.Status != cdapi.LifecycleEventStatusInProgress || now.Sub(e.Start) < r.cfg.AgentLease {
				continue
			}
			seen, err := r.lastSeen(ctx, q, in.ID)
			if err != nil {
				return nil, nil, err
			}
			if time.Since(seen) < r.cfg.AgentLease {
				continue
			}
			e.Status, e.End = cdapi.LifecycleEventStatusFailed, now
			e.ErrorCode = cdapi.LifecycleErrorCodeUnknownError
			e.Message = fmt.Sprintf("%s: the CodeDeploy agent on instance %s has not polled for commands for %s (lease %s); check that the agent is running and can reach Slipway",
				AgentIssue, in.ID, time.Since(seen).Round(time.Second), r.cfg.AgentLease)
			in.Events[e.Name] = e.Status
			dirty[in.ID] = true
			if e.CommandID != "" {
				if c, err := q.GetHostCommand(ctx, e.CommandID); err == nil && (c.Status == cdapi.LifecycleEventStatusPending || c.Status == cdapi.LifecycleEventStatusInProgress) {
					c.Status, c.Updated = "Failed", now
					if err := q.UpdateHostCommand(ctx, c); err != nil {
						return nil, nil, err
					}
				}
			}
			r.logger.WarnContext(ctx, "lifecycle event failed: agent not polling", "deployment", d.ID, "instance", in.ID, "event", e.Name)
		}
	}

	var finish *fleet.FinishDeployment
	for _, c := range fleet.Plan(st) {
		switch c := c.(type) {
		case fleet.StartEvent:
			tr := targets[c.Instance]
			e := tr.doc.Event(c.Event)
			if e == nil {
				return nil, nil, fmt.Errorf("deployment %s: instance %s has no event %s", d.ID, c.Instance, c.Event)
			}
			cmd := &store.HostCommand{ID: newCommandID(), DeploymentID: d.ID, Instance: c.Instance, Name: c.Event,
				Status: "Pending", Created: now, Updated: now}
			if err := q.CreateHostCommand(ctx, cmd); err != nil {
				return nil, nil, err
			}
			e.Status, e.Start, e.CommandID = cdapi.LifecycleEventStatusInProgress, now, cmd.ID
			if tr.row.Status == cdapi.InstanceStatusPending {
				tr.row.Status = cdapi.InstanceStatusInProgress
				instanceEvents = append(instanceEvents, instanceEvent{c.Instance, cdapi.TriggerEventTypeInstanceStart})
			}
			dirty[c.Instance] = true
			wake = append(wake, c.Instance)
		case fleet.SkipEvent:
			if e := targets[c.Instance].doc.Event(c.Event); e != nil {
				e.Status = cdapi.LifecycleEventStatusSkipped
			}
			dirty[c.Instance] = true
		case fleet.FinishInstance:
			targets[c.Instance].row.Status = c.Status
			dirty[c.Instance] = true
			switch c.Status {
			case cdapi.InstanceStatusSucceeded:
				instanceEvents = append(instanceEvents, instanceEvent{c.Instance, cdapi.TriggerEventTypeInstanceSuccess})
			case cdapi.InstanceStatusFailed:
				instanceEvents = append(instanceEvents, instanceEvent{c.Instance, cdapi.TriggerEventTypeInstanceFailure})
			}
		case fleet.FinishDeployment:
			finish = &c
		}
	}
	for name := range dirty {
		tr := targets[name]
		tr.row.Detail, tr.row.Updated = encode(tr.doc), now
		if err := q.PutDeploymentTarget(ctx, tr.row); err != nil {
			return nil, nil, err
		}
	}
	for _, ie := range instanceEvents {
		if err := r.instanceTrigger(ctx, q, d, det, targets[ie.instance], ie.event, now); err != nil {
			return nil, nil, err
		}
	}
	if finish == nil {
		d.Detail, d.Updated = encode(det), now
		return nil, wake, q.UpdateDeployment(ctx, d)
	}
	kick, err = r.finish(ctx, q, d, det, targets, finish, now)
	return kick, wake, err
}

// finish ends a deployment: its status, the instances' health in the
// group, the group's last deployments, open host commands cancelled, and
// an automatic rollback.
func (r *Runner) finish(ctx context.Context, q store.Queries, d *store.Deployment, det *Detail, targets map[string]*targetRow,
	f *fleet.FinishDeployment, now time.Time) ([]string, error) {
	d.Status, d.Active, d.Updated = f.Status, false, now
	r.targets.forget(d.ID)
	det.Completed = now
	if det.Started.IsZero() {
		det.Started = now
	}
	if f.ErrorCode != "" {
		det.Error = &cdapi.ErrorInformation{Code: f.ErrorCode, Message: f.Message}
	}
	for name, tr := range targets {
		gi := &GroupInstance{Health: f.Health[name], LastDeployment: d.ID}
		if old, err := q.ListGroupInstances(ctx, d.GroupID); err == nil {
			for _, o := range old {
				if o.Instance == name {
					if prev, err := decode[GroupInstance](o.Detail, "group instance"); err == nil {
						gi.RevisionKey, gi.Deployed = prev.RevisionKey, prev.Deployed
					}
				}
			}
		}
		if tr.row.Status == cdapi.InstanceStatusSucceeded {
			gi.Deployed = true
			gi.RevisionKey = det.RevisionKey
		}
		if err := q.PutGroupInstance(ctx, &store.GroupInstance{GroupID: d.GroupID, Instance: name, Updated: now, Detail: encode(gi)}); err != nil {
			return nil, err
		}
	}
	open, err := q.ListHostCommands(ctx, store.HostCommandFilter{DeploymentID: d.ID, Statuses: []string{"Pending", "InProgress"}})
	if err != nil {
		return nil, err
	}
	for _, c := range open {
		c.Status, c.Updated = "Failed", now
		if err := q.UpdateHostCommand(ctx, c); err != nil {
			return nil, err
		}
	}
	d.Detail = encode(det)
	if err := q.UpdateDeployment(ctx, d); err != nil {
		return nil, err
	}
	r.logger.InfoContext(ctx, "deployment finished", "deployment", d.ID, "status", d.Status, "error", f.ErrorCode)
	if ev := triggerEventOf(d.Status); ev != "" {
		if err := r.deploymentTrigger(ctx, q, d, det, targets, ev, now); err != nil {
			return nil, err
		}
	}

	g, err := q.GetDeploymentGroup(ctx, d.Application, d.GroupName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // the group was deleted meanwhile
	}
	if err != nil {
		return nil, err
	}
	info, err := groupInfo(g)
	if err != nil {
		return nil, err
	}
	last := &cdapi.LastDeploymentInfo{DeploymentId: d.ID, Status: d.Status, CreateTime: awsproto.NewTime(d.Created), EndTime: awsproto.NewTime(now)}
	prevSuccess := info.LastSuccessfulDeployment
	info.LastAttemptedDeployment = last
	if d.Status == cdapi.DeploymentStatusSucceeded {
		info.LastSuccessfulDeployment = last
	}
	if err := saveGroupInfo(ctx, q, g, info); err != nil {
		return nil, err
	}
	if r.wantsRollback(d, det) {
		kick, err := r.rollback(ctx, q, d, det, g, prevSuccess, targets)
		if err != nil || len(kick) > 0 {
			return kick, err // a queued deployment waits for the rollback
		}
	}
	return r.startQueued(ctx, q, g, now)
}

// QueueTag is the deployment group tag (TagResource) that opts a group
// into queueing: with value "true", CreateDeployment on a busy group
// queues the deployment instead of failing (docs/api-extensions.md).
const QueueTag = "slipway:queue"

// supersede stops the group's queued deployments other than keep: a
// newer revision was queued.
func (r *Runner) supersede(ctx context.Context, q store.Queries, g *store.DeploymentGroup, keep string, now time.Time) error {
	queued, err := q.ListDeployments(ctx, store.DeploymentFilter{Application: g.Application, GroupName: g.Name, Statuses: []string{cdapi.DeploymentStatusQueued}})
	if err != nil {
		return err
	}
	for _, o := range queued {
		if o.ID == keep {
			continue
		}
		if err := r.endQueued(ctx, q, o, cdapi.ErrorCodeManualStop, "superseded by deployment "+keep, now); err != nil {
			return err
		}
		r.logger.InfoContext(ctx, "queued deployment superseded", "deployment", o.ID, "by", keep, "group", g.Name)
	}
	return nil
}

// endQueued ends a queued deployment as Stopped without running it: its
// instances are Skipped.
func (r *Runner) endQueued(ctx context.Context, q store.Queries, d *store.Deployment, code, message string, now time.Time) error {
	det, err := DecodeDetail(d)
	if err != nil {
		return err
	}
	_, targets, err := r.loadState(ctx, q, d, det)
	if err != nil {
		return err
	}
	r.targets.forget(d.ID)
	for _, tr := range targets {
		tr.row.Status = cdapi.InstanceStatusSkipped
		for _, e := range tr.doc.Events {
			e.Status = cdapi.LifecycleEventStatusSkipped
		}
		tr.row.Detail, tr.row.Updated = encode(tr.doc), now
		if err := q.PutDeploymentTarget(ctx, tr.row); err != nil {
			return err
		}
	}
	det.Error = &cdapi.ErrorInformation{Code: code, Message: message}
	det.Completed = now
	d.Status, d.Active, d.Detail, d.Updated = cdapi.DeploymentStatusStopped, false, encode(det), now
	if err := q.UpdateDeployment(ctx, d); err != nil {
		return err
	}
	return r.deploymentTrigger(ctx, q, d, det, targets, cdapi.TriggerEventTypeDeploymentStop, now)
}

// startQueued makes the group's oldest queued deployment Created (the
// caller kicks the IDs returned) when the group has no active one.
func (r *Runner) startQueued(ctx context.Context, q store.Queries, g *store.DeploymentGroup, now time.Time) ([]string, error) {
	active, err := q.ListDeployments(ctx, store.DeploymentFilter{Application: g.Application, GroupName: g.Name, ActiveOnly: true})
	if err != nil || len(active) > 0 {
		return nil, err
	}
	queued, err := q.ListDeployments(ctx, store.DeploymentFilter{Application: g.Application, GroupName: g.Name, Statuses: []string{cdapi.DeploymentStatusQueued}})
	if err != nil || len(queued) == 0 {
		return nil, err
	}
	d := queued[0]
	det, err := DecodeDetail(d)
	if err != nil {
		return nil, err
	}
	info, err := groupInfo(g)
	if err != nil {
		return nil, err
	}
	if ls := info.LastSuccessfulDeployment; ls != nil && ls.DeploymentId != "" {
		if prev, err := q.GetDeployment(ctx, ls.DeploymentId); err == nil {
			if pd, err := DecodeDetail(prev); err == nil {
				det.PreviousRevision = pd.Revision
			}
		}
	}
	d.Status, d.Active, d.Detail, d.Updated = cdapi.DeploymentStatusCreated, true, encode(det), now
	if err := q.UpdateDeployment(ctx, d); err != nil {
		return nil, err
	}
	info.TargetRevision = det.Revision
	info.LastAttemptedDeployment = &cdapi.LastDeploymentInfo{DeploymentId: d.ID, Status: d.Status, CreateTime: awsproto.NewTime(d.Created)}
	if err := saveGroupInfo(ctx, q, g, info); err != nil {
		return nil, err
	}
	r.logger.InfoContext(ctx, "queued deployment starting", "deployment", d.ID, "group", g.Name)
	return []string{d.ID}, nil
}

func (r *Runner) wantsRollback(d *store.Deployment, det *Detail) bool {
	if det.Creator == CreatorRollback {
		return false
	}
	switch d.Status {
	case cdapi.DeploymentStatusFailed:
		a := det.AutoRollback
		return a != nil && a.Enabled != nil && *a.Enabled && slices.Contains(a.Events, cdapi.AutoRollbackEventDeploymentFailure)
	case cdapi.DeploymentStatusStopped:
		return det.StopRollback
	}
	return false
}

// rollback redeploys the group's last successful revision to the
// deployment's instances as a new deployment.
func (r *Runner) rollback(ctx context.Context, q store.Queries, d *store.Deployment, det *Detail, g *store.DeploymentGroup,
	prevSuccess *cdapi.LastDeploymentInfo, targets map[string]*targetRow) ([]string, error) {
	var prev *Detail
	if prevSuccess != nil && prevSuccess.DeploymentId != "" {
		if pd, err := q.GetDeployment(ctx, prevSuccess.DeploymentId); err == nil {
			prev, _ = DecodeDetail(pd)
		}
	}
	if prev == nil || prev.Revision == nil {
		det.RollbackInfo = &cdapi.RollbackInfo{RollbackMessage: "Automatic rollback was not performed: deployment group " + d.GroupName + " has no previous successful deployment to roll back to."}
		d.Detail = encode(det)
		return nil, q.UpdateDeployment(ctx, d)
	}
	instances := make([]string, 0, len(targets))
	for name := range targets {
		instances = append(instances, name)
	}
	slices.Sort(instances)
	rb, err := r.Insert(ctx, q, &Request{Group: g, Instances: instances, Detail: Detail{
		Revision: prev.Revision, RevisionKey: prev.RevisionKey, ConfigName: det.ConfigName, Config: det.Config,
		Description: "Rollback of deployment " + d.ID, Creator: CreatorRollback,
		IgnoreApplicationStopFailures: det.IgnoreApplicationStopFailures, FileExistsBehavior: prev.FileExistsBehavior,
		Order: det.Order,
		RollbackInfo: &cdapi.RollbackInfo{RollbackTriggeringDeploymentId: d.ID,
			RollbackMessage: fmt.Sprintf("Rollback of deployment %s (%s), redeploying the revision of deployment %s", d.ID, d.Status, prevSuccess.DeploymentId)},
	}})
	if err != nil {
		return nil, err
	}
	det.RollbackInfo = &cdapi.RollbackInfo{RollbackDeploymentId: rb.ID,
		RollbackMessage: fmt.Sprintf("Deployment %s %s; rollback deployment %s redeploys the last successful revision (deployment %s)", d.ID, d.Status, rb.ID, prevSuccess.DeploymentId)}
	d.Detail = encode(det)
	if err := q.UpdateDeployment(ctx, d); err != nil {
		return nil, err
	}
	r.logger.InfoContext(ctx, "rollback deployment created", "deployment", rb.ID, "rolls_back", d.ID)
	if err := r.deploymentTrigger(ctx, q, d, det, targets, cdapi.TriggerEventTypeDeploymentRollback, r.now()); err != nil {
		return nil, err
	}
	return []string{rb.ID}, nil
}
