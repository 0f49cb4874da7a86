package fleet

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/cdapi"
)

// Health shorthands: instance health then revision health.
var (
	hc    = Health{Healthy, RevisionCurrent}
	ho    = Health{Healthy, RevisionOld}
	hu    = Health{Healthy, RevisionUnknown}
	uc    = Health{Unhealthy, RevisionCurrent}
	uu    = Health{Unhealthy, RevisionUnknown}
	fresh = Health{} // never deployed to
)

// Status shorthands.
const (
	pending = cdapi.InstanceStatusPending
	running = cdapi.InstanceStatusInProgress
	done    = cdapi.InstanceStatusSucceeded
	failed  = cdapi.InstanceStatusFailed
)

// short is a three-event lifecycle that keeps expectations readable.
var short = []string{EventApplicationStop, EventInstall, EventValidateService}

// inst builds an instance; events are "Event=Status" pairs.
func inst(id, status string, h Health, events ...string) *Instance {
	in := &Instance{ID: id, Status: status, Health: h, Events: map[string]string{}}
	for _, e := range events {
		name, st, _ := strings.Cut(e, "=")
		in.Events[name] = st
	}
	return in
}

// all returns "Event=status" for every event of order.
func all(order []string, status string) []string {
	out := make([]string, len(order))
	for i, ev := range order {
		out[i] = ev + "=" + status
	}
	return out
}

// fleetOf builds n pending instances i01…, healthy with the current
// revision, then lets mod change them.
func fleetOf(n int, mod func(i int, in *Instance)) []*Instance {
	out := make([]*Instance, n)
	for i := range out {
		out[i] = inst(fmt.Sprintf("i%02d", i+1), pending, hc)
		if mod != nil {
			mod(i, out[i])
		}
	}
	return out
}

// describe renders commands compactly for comparison.
func describe(cmds []Command) []string {
	out := []string{}
	for _, c := range cmds {
		switch c := c.(type) {
		case StartEvent:
			out = append(out, "start "+c.Instance+" "+c.Event)
		case SkipEvent:
			out = append(out, "skip "+c.Instance+" "+c.Event)
		case FinishInstance:
			out = append(out, "instance "+c.Instance+" "+c.Status)
		case FinishDeployment:
			out = append(out, strings.TrimSpace("deployment "+c.Status+" "+c.ErrorCode))
		}
	}
	return out
}

// skips renders the skip commands of an instance's events.
func skips(id string, events ...string) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = "skip " + id + " " + ev
	}
	return out
}

func cat(parts ...[]string) []string {
	out := []string{}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestPlan(t *testing.T) {
	t.Parallel()
	var (
		allAtOnce = predefined(t, ConfigAllAtOnce)
		half      = predefined(t, ConfigHalfAtATime)
		oneAtATim = predefined(t, ConfigOneAtATime)
		lbOrder   = InPlaceOrder(true)
		stop      = &StopRequest{ErrorCode: cdapi.ErrorCodeManualStop, Message: "stopped by request"}
	)
	cases := []struct {
		name      string
		cfg       Config
		ignore    bool
		status    string // deployment status; InProgress when empty
		stop      *StopRequest
		order     []string
		instances []*Instance
		want      []string
	}{
		{
			// §3.2 "Order of instance scheduling: 1. Unhealthy instance
			// health 2. Unknown revision health 3. Old revision health
			// 4. Current revision health".
			name: "scheduling order: unhealthy first, then unknown, old and current revisions",
			cfg:  allAtOnce,
			instances: []*Instance{
				inst("cur", pending, hc), inst("old", pending, ho), inst("unk", pending, hu),
				inst("sick-cur", pending, uc), inst("sick-unk", pending, uu), inst("new", pending, fresh),
			},
			want: []string{
				"start sick-unk ApplicationStop", "start new ApplicationStop", "start sick-cur ApplicationStop",
				"start unk ApplicationStop", "start old ApplicationStop", "start cur ApplicationStop",
			},
		},
		{
			name:      "HalfAtATime with 4 instances: 2 at a time",
			cfg:       half,
			instances: fleetOf(4, nil),
			want:      []string{"start i01 ApplicationStop", "start i02 ApplicationStop"},
		},
		{
			name:      "OneAtATime: one at a time",
			cfg:       oneAtATim,
			instances: fleetOf(3, nil),
			want:      []string{"start i01 ApplicationStop"},
		},
		{
			// §3.2 "Start: deploy to unhealthy instances first"; 7 healthy
			// of 10 is below the minimum of 8, so no healthy instance may go
			// offline, and the batch size is 10 − 8 = 2.
			name: "group below the minimum: only unhealthy instances start",
			cfg:  hosts(8),
			instances: fleetOf(10, func(i int, in *Instance) {
				if i >= 7 {
					in.Health = uu
				}
			}),
			want: []string{"start i08 ApplicationStop", "start i09 ApplicationStop"},
		},
		{
			// §3.2 "For each success, mark the instance healthy and compare
			// with the minimum: … greater than the specified minimum… by at
			// least one, CodeDeploy deploys the application revision to the
			// original set of healthy instances." 7 + 2 = 9 healthy > 8.
			name: "unhealthy instances succeeded: healthy count exceeds the minimum by one, a healthy instance starts",
			cfg:  hosts(8),
			instances: fleetOf(10, func(i int, in *Instance) {
				switch {
				case i == 7 || i == 8:
					*in = *inst(in.ID, done, uu, all(short, "Succeeded")...)
				case i == 9:
					in.Health = uu
				}
			}),
			want: []string{"start i10 ApplicationStop", "start i01 ApplicationStop"},
		},
		{
			name:      "an event succeeded: the next one starts",
			cfg:       allAtOnce,
			instances: []*Instance{inst("i1", running, hc, "ApplicationStop=Succeeded")},
			want:      []string{"start i1 Install"},
		},
		{
			name:      "an event is running: wait",
			cfg:       allAtOnce,
			instances: []*Instance{inst("i1", running, hc, "ApplicationStop=Succeeded", "Install=InProgress")},
			want:      []string{},
		},
		{
			name:      "the last event succeeded: the instance succeeds and the next one starts",
			cfg:       oneAtATim,
			instances: []*Instance{inst("i1", running, hc, all(short, "Succeeded")...), inst("i2", pending, hc)},
			want:      []string{"instance i1 Succeeded", "start i2 ApplicationStop"},
		},
		{
			name: "the last instance succeeded: the deployment succeeds",
			cfg:  oneAtATim,
			instances: []*Instance{
				inst("i1", done, hc, all(short, "Succeeded")...), inst("i2", running, hc, all(short, "Succeeded")...),
			},
			want: []string{"instance i2 Succeeded", "deployment Succeeded"},
		},
		{
			name: "a failed event fails the instance and skips the rest",
			cfg:  allAtOnce,
			instances: []*Instance{
				inst("i1", running, hc, "ApplicationStop=Succeeded", "Install=Failed"),
				inst("i2", running, hc, "ApplicationStop=InProgress"),
			},
			want: []string{"skip i1 ValidateService", "instance i1 Failed"},
		},
		{
			name: "an Unknown event result fails the instance",
			cfg:  allAtOnce,
			instances: []*Instance{
				inst("i1", running, hc, "ApplicationStop=Unknown"),
				inst("i2", running, hc, "ApplicationStop=InProgress"),
			},
			want: []string{"skip i1 Install", "skip i1 ValidateService", "instance i1 Failed"},
		},
		{
			name: "without ignoreApplicationStopFailures an ApplicationStop failure fails the instance",
			cfg:  allAtOnce,
			instances: []*Instance{
				inst("i1", running, hc, "ApplicationStop=Failed"),
				inst("i2", running, hc, "ApplicationStop=InProgress"),
			},
			want: []string{"skip i1 Install", "skip i1 ValidateService", "instance i1 Failed"},
		},
		{
			// §6.4: "the instance continues to BeforeInstall even if
			// ApplicationStop fails".
			name:      "ignoreApplicationStopFailures: the instance continues after an ApplicationStop failure",
			cfg:       allAtOnce,
			ignore:    true,
			order:     InPlaceOrder(false),
			instances: []*Instance{inst("i1", running, hc, "ApplicationStop=Failed")},
			want:      []string{"start i1 DownloadBundle"},
		},
		{
			// §6.4: "Per troubleshooting it covers ApplicationStop,
			// BeforeBlockTraffic and AfterBlockTraffic failures."
			name:      "ignoreApplicationStopFailures covers BeforeBlockTraffic",
			cfg:       allAtOnce,
			ignore:    true,
			order:     lbOrder,
			instances: []*Instance{inst("i1", running, hc, "BeforeBlockTraffic=Failed")},
			want:      []string{"start i1 BlockTraffic"},
		},
		{
			name:      "ignoreApplicationStopFailures covers AfterBlockTraffic",
			cfg:       allAtOnce,
			ignore:    true,
			order:     lbOrder,
			instances: []*Instance{inst("i1", running, hc, "BeforeBlockTraffic=Succeeded", "BlockTraffic=Succeeded", "AfterBlockTraffic=Failed")},
			want:      []string{"start i1 ApplicationStop"},
		},
		{
			name:   "ignoreApplicationStopFailures does not cover other events",
			cfg:    allAtOnce,
			ignore: true,
			instances: []*Instance{
				inst("i1", running, hc, "ApplicationStop=Succeeded", "Install=Failed"),
				inst("i2", running, hc, "ApplicationStop=InProgress"),
			},
			want: []string{"skip i1 ValidateService", "instance i1 Failed"},
		},
		{
			name:   "ignoreApplicationStopFailures: an instance whose only failure is ApplicationStop succeeds",
			cfg:    allAtOnce,
			ignore: true,
			instances: []*Instance{
				inst("i1", running, hc, "ApplicationStop=Failed", "Install=Succeeded", "ValidateService=Succeeded"),
			},
			want: []string{"instance i1 Succeeded", "deployment Succeeded"},
		},
		{
			// §2.2 ApplicationStop "Does not run on the first deployment to
			// an instance"; checklist 23: ApplicationStop, BeforeBlockTraffic
			// and AfterBlockTraffic "are skipped on the first deployment".
			name:      "first deployment: the previous revision's events are skipped",
			cfg:       allAtOnce,
			order:     lbOrder,
			instances: []*Instance{{ID: "i1", Health: fresh, FirstDeployment: true}},
			want:      []string{"skip i1 BeforeBlockTraffic", "start i1 BlockTraffic"},
		},
		{
			name:  "first deployment: AfterBlockTraffic and ApplicationStop are skipped after BlockTraffic",
			cfg:   allAtOnce,
			order: lbOrder,
			instances: []*Instance{{ID: "i1", Status: running, Health: fresh, FirstDeployment: true,
				Events: map[string]string{"BeforeBlockTraffic": "Skipped", "BlockTraffic": "Succeeded"}}},
			want: []string{"skip i1 AfterBlockTraffic", "skip i1 ApplicationStop", "start i1 DownloadBundle"},
		},
		{
			// §3.2 "If min ≥ total, the deployment fails immediately. Error
			// code HEALTH_CONSTRAINTS_INVALID"; §8.2 "All lifecycle events
			// skipped".
			name:      "HEALTH_CONSTRAINTS_INVALID: 1 instance with HOST_COUNT 1 is skipped",
			cfg:       hosts(1),
			instances: fleetOf(1, nil),
			want: cat(skips("i01", short...), []string{
				"instance i01 Skipped", "deployment Failed HEALTH_CONSTRAINTS_INVALID",
			}),
		},
		{
			name:      "OneAtATime with 1 instance starts",
			cfg:       oneAtATim,
			instances: fleetOf(1, nil),
			want:      []string{"start i01 ApplicationStop"},
		},
		{
			name: "NO_INSTANCES",
			cfg:  allAtOnce,
			want: []string{"deployment Failed NO_INSTANCES"},
		},
		{
			// HalfAtATime on 5: minimum 3. Three failures leave at most 2
			// instances that can succeed: the deployment can no longer
			// succeed. The pending instance is skipped; the one in progress
			// runs on.
			name: "HEALTH_CONSTRAINTS: pending instances are skipped, instances in progress run on",
			cfg:  half,
			instances: []*Instance{
				inst("i1", failed, uu, "ApplicationStop=Failed", "Install=Skipped", "ValidateService=Skipped"),
				inst("i2", failed, uu, "ApplicationStop=Failed", "Install=Skipped", "ValidateService=Skipped"),
				inst("i3", failed, uu, "ApplicationStop=Succeeded", "Install=Failed", "ValidateService=Skipped"),
				inst("i4", running, uu, "ApplicationStop=Succeeded", "Install=Succeeded"),
				inst("i5", pending, uu),
			},
			want: cat([]string{"start i4 ValidateService"}, skips("i5", short...), []string{"instance i5 Skipped"}),
		},
		{
			name: "HEALTH_CONSTRAINTS: the deployment fails when the last instance in progress ends",
			cfg:  half,
			instances: []*Instance{
				inst("i1", failed, uu, "ApplicationStop=Failed", "Install=Skipped", "ValidateService=Skipped"),
				inst("i2", failed, uu, "ApplicationStop=Failed", "Install=Skipped", "ValidateService=Skipped"),
				inst("i3", failed, uu, "ApplicationStop=Succeeded", "Install=Failed", "ValidateService=Skipped"),
				inst("i4", running, uu, all(short, "Succeeded")...),
				inst("i5", cdapi.InstanceStatusSkipped, uu, all(short, "Skipped")...),
			},
			want: []string{"instance i4 Succeeded", "deployment Failed HEALTH_CONSTRAINTS"},
		},
		{
			// §6.7: stop → "no more deployment lifecycle events are run";
			// "events may still be running"; instances are left "in an
			// indeterminate deployment state".
			name: "stop: running events finish, nothing starts, instances between events end Unknown",
			cfg:  hosts(1),
			stop: stop,
			instances: []*Instance{
				inst("i1", running, hc, "ApplicationStop=Succeeded", "Install=InProgress"),
				inst("i2", running, hc, "ApplicationStop=Succeeded"),
				inst("i3", pending, hc),
			},
			want: cat(skips("i2", "Install", "ValidateService"), []string{"instance i2 Unknown"},
				skips("i3", short...), []string{"instance i3 Skipped"}),
		},
		{
			name: "stop: the last running event ended: its instance ends Unknown, the deployment Stopped",
			cfg:  hosts(1),
			stop: stop,
			instances: []*Instance{
				inst("i1", running, hc, "ApplicationStop=Succeeded", "Install=Succeeded"),
				inst("i2", cdapi.InstanceStatusUnknown, hc, "ApplicationStop=Succeeded", "Install=Skipped", "ValidateService=Skipped"),
				inst("i3", cdapi.InstanceStatusSkipped, hc, all(short, "Skipped")...),
			},
			want: []string{"skip i1 ValidateService", "instance i1 Unknown", "deployment Stopped MANUAL_STOP"},
		},
		{
			name: "stop: an instance whose last event ended succeeds, one whose event failed fails",
			cfg:  allAtOnce,
			stop: stop,
			instances: []*Instance{
				inst("i1", running, hc, all(short, "Succeeded")...),
				inst("i2", running, hc, "ApplicationStop=Failed"),
			},
			want: []string{
				"instance i1 Succeeded", "skip i2 Install", "skip i2 ValidateService", "instance i2 Failed",
				"deployment Stopped MANUAL_STOP",
			},
		},
		{
			name:      "stop before anything started",
			cfg:       allAtOnce,
			stop:      stop,
			instances: fleetOf(1, nil),
			want:      cat(skips("i01", short...), []string{"instance i01 Skipped", "deployment Stopped MANUAL_STOP"}),
		},
		{
			name:      "a finished deployment plans nothing",
			cfg:       allAtOnce,
			status:    cdapi.DeploymentStatusSucceeded,
			instances: []*Instance{inst("i1", done, hc, all(short, "Succeeded")...)},
			want:      []string{},
		},
		{
			name:      "a created deployment plans nothing",
			cfg:       allAtOnce,
			status:    cdapi.DeploymentStatusCreated,
			instances: fleetOf(2, nil),
			want:      []string{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := &State{
				Config: tc.cfg, IgnoreApplicationStopFailures: tc.ignore, Stop: tc.stop,
				Status:    cmpOr(tc.status, cdapi.DeploymentStatusInProgress),
				Order:     cmpOrSlice(tc.order, short),
				Instances: tc.instances,
			}
			before := clone(st)
			got := describe(Plan(st))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Plan =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			if !reflect.DeepEqual(st, before) {
				t.Error("Plan modified its input")
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func cmpOrSlice(s, def []string) []string {
	if s == nil {
		return def
	}
	return s
}

// TestPlanHealthUpdates checks the health the deployment leaves behind.
func TestPlanHealthUpdates(t *testing.T) {
	t.Parallel()
	st := &State{
		Config: predefined(t, ConfigOneAtATime),
		Status: cdapi.DeploymentStatusInProgress,
		Order:  short,
		Instances: []*Instance{
			inst("i1", done, uu, all(short, "Succeeded")...),
			inst("i2", done, ho, all(short, "Succeeded")...),
			inst("i3", running, hc, "ApplicationStop=Succeeded", "Install=Succeeded", "ValidateService=Failed"),
		},
	}
	cmds := Plan(st)
	f, ok := cmds[len(cmds)-1].(FinishDeployment)
	if !ok || f.Status != cdapi.DeploymentStatusSucceeded {
		t.Fatalf("Plan = %v; want a successful FinishDeployment last (the last instance may fail)", describe(cmds))
	}
	want := map[string]Health{"i1": hc, "i2": hc, "i3": uu}
	if !reflect.DeepEqual(f.Health, want) {
		t.Errorf("health after success = %v; want %v", f.Health, want)
	}
}

func TestStopStatus(t *testing.T) {
	t.Parallel()
	st := &State{Instances: []*Instance{
		inst("i1", running, hc, "ApplicationStop=Succeeded", "Install=InProgress"),
		inst("i2", pending, hc),
	}}
	if got := StopStatus(st); got != cdapi.StopStatusPending {
		t.Errorf("StopStatus with an event running = %s; want Pending", got)
	}
	st.Instances[0].Events["Install"] = "Succeeded"
	if got := StopStatus(st); got != cdapi.StopStatusSucceeded {
		t.Errorf("StopStatus with no event running = %s; want Succeeded", got)
	}
}

func TestNextEvent(t *testing.T) {
	t.Parallel()
	in := inst("i1", running, hc, "ApplicationStop=Skipped", "Install=InProgress")
	if got := in.NextEvent(short); got != "Install" {
		t.Errorf("NextEvent = %q; want Install", got)
	}
	in.Events["Install"] = "Succeeded"
	if got := in.NextEvent(short); got != "ValidateService" {
		t.Errorf("NextEvent = %q; want ValidateService", got)
	}
	in.Events["ValidateService"] = "Failed"
	if got := in.NextEvent(short); got != "" {
		t.Errorf("NextEvent = %q; want none", got)
	}
}
