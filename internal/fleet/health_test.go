package fleet

import (
	"errors"
	"reflect"
	"testing"

	"github.com/slipway-cd/slipway/internal/cdapi"
)

const (
	hostCount    = cdapi.MinimumHealthyHostsTypeHostCount
	fleetPercent = cdapi.MinimumHealthyHostsTypeFleetPercent
)

func hosts(n int) Config   { return Config{MinHealthyHosts: MinHealthyHosts{hostCount, n}} }
func percent(n int) Config { return Config{MinHealthyHosts: MinHealthyHosts{fleetPercent, n}} }

func predefined(t *testing.T, name string) Config {
	t.Helper()
	c, ok := Predefined(name)
	if !ok {
		t.Fatalf("Predefined(%q) not found", name)
	}
	return c
}

func TestMinHealthy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		total   int
		cfg     Config
		want    int
		wantErr bool
	}{
		// §3.1: "A percentage is converted at deployment start to a host
		// count, rounding up any fractional instances."
		{"HOST_COUNT is a number of hosts", 10, hosts(9), 9, false},
		{"HOST_COUNT above the fleet is kept (CheckConstraints rejects it)", 10, hosts(12), 12, false},
		{"95% of 10 rounds up to 10", 10, percent(95), 10, false},
		{"85% of 10 rounds up to 9", 10, percent(85), 9, false},
		{"HalfAtATime: 50% of 9 rounds up to 5", 9, predefined(t, ConfigHalfAtATime), 5, false},
		{"75% of 5 rounds 3.75 up to 4", 5, percent(75), 4, false},
		{"75% of 4 is exactly 3", 4, percent(75), 3, false},
		{"1% of 1 rounds up to 1", 1, percent(1), 1, false},
		{"AllAtOnce is 0", 10, predefined(t, ConfigAllAtOnce), 0, false},
		{"100% is the whole fleet", 7, percent(100), 7, false},
		{"OneAtATime is 1", 10, predefined(t, ConfigOneAtATime), 1, false},
		{"percentage above 100", 10, percent(101), 0, true},
		{"negative value", 10, hosts(-1), 0, true},
		{"unknown type", 10, Config{MinHealthyHosts: MinHealthyHosts{"MOST_CONCURRENCY", 1}}, 0, true},
		{"missing type", 10, Config{}, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := MinHealthy(tc.total, tc.cfg)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("MinHealthy(%d, %+v) = %d, %v; want %d, error %v", tc.total, tc.cfg, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestBatchSize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		total int
		cfg   Config
		want  int
	}{
		// §3.2: "Batch size = [total-hosts] - [minimum-healthy-hosts].
		// Examples with 10 hosts: min 9 → 1 at a time; min 3 → 7 in the
		// first batch, then the remaining 3; min 0 → all 10 at once."
		{"10 hosts, min 9: one at a time", 10, hosts(9), 1},
		{"10 hosts, min 3: seven at a time", 10, hosts(3), 7},
		{"10 hosts, min 0: all at once", 10, hosts(0), 10},
		{"10 hosts, min 8: two at a time", 10, hosts(8), 2},
		// §3.1 HalfAtATime: "up to half of the instances at a time (with
		// fractions rounded down)… 9 instances: up to 4 at a time".
		{"HalfAtATime, 9 instances: 4 at a time", 9, predefined(t, ConfigHalfAtATime), 4},
		{"HalfAtATime, 10 instances: 5 at a time", 10, predefined(t, ConfigHalfAtATime), 5},
		// §3.1 OneAtATime: "One instance at a time."
		{"OneAtATime: one at a time", 10, predefined(t, ConfigOneAtATime), 1},
		{"AllAtOnce: every instance", 9, predefined(t, ConfigAllAtOnce), 9},
		{"minimum above the fleet: none", 10, hosts(12), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, err := BatchSize(tc.total, tc.cfg); err != nil || got != tc.want {
				t.Fatalf("BatchSize(%d, %+v) = %d, %v; want %d", tc.total, tc.cfg, got, err, tc.want)
			}
		})
	}
	if _, err := BatchSize(3, percent(101)); err == nil {
		t.Error("BatchSize with a malformed minimum: no error")
	}
}

func TestCheckConstraints(t *testing.T) {
	t.Parallel()
	const (
		invalid = cdapi.ErrorCodeHealthConstraintsInvalid
		none    = cdapi.ErrorCodeNoInstances
	)
	cases := []struct {
		name  string
		total int
		cfg   Config
		want  string // error code, "" when the deployment can start
	}{
		// §3.2: "If min ≥ total, the deployment fails immediately. Error
		// code HEALTH_CONSTRAINTS_INVALID".
		{"95% of 10 rounds up to 10 = all hosts", 10, percent(95), invalid},
		{"HOST_COUNT equal to the fleet", 10, hosts(10), invalid},
		{"HOST_COUNT above the fleet", 3, hosts(5), invalid},
		{"HOST_COUNT one below the fleet", 10, hosts(9), ""},
		{"85% of 10 is 9", 10, percent(85), ""},
		{"1 instance, HOST_COUNT 1", 1, hosts(1), invalid},
		{"1 instance, HalfAtATime: 50% of 1 rounds up to 1", 1, predefined(t, ConfigHalfAtATime), invalid},
		{"2 instances, HalfAtATime", 2, predefined(t, ConfigHalfAtATime), ""},
		{"1 instance, AllAtOnce", 1, predefined(t, ConfigAllAtOnce), ""},
		{"1 instance, 100%", 1, percent(100), invalid},
		// §3.1 OneAtATime: "With exactly one instance, success only if that
		// instance succeeds" — so it may start.
		{"1 instance, OneAtATime", 1, predefined(t, ConfigOneAtATime), ""},
		{"malformed minimum", 4, percent(120), invalid},
		// §10.3: "The deployment failed because no instances were found…"
		{"no instances, AllAtOnce", 0, predefined(t, ConfigAllAtOnce), none},
		{"no instances, OneAtATime", 0, predefined(t, ConfigOneAtATime), none},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckConstraints(tc.total, tc.cfg)
			var ce *ConstraintError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("CheckConstraints(%d, %+v) = %v; want nil", tc.total, tc.cfg, err)
			case tc.want == "":
			case !errors.As(err, &ce) || ce.Code != tc.want || ce.Message == "":
				t.Fatalf("CheckConstraints(%d, %+v) = %v; want code %s", tc.total, tc.cfg, err, tc.want)
			}
		})
	}
}

func TestPredefined(t *testing.T) {
	t.Parallel()
	cases := map[string]Config{
		"":                hosts(1),
		ConfigOneAtATime:  hosts(1),
		ConfigHalfAtATime: percent(50),
		ConfigAllAtOnce:   percent(0),
	}
	for name, want := range cases {
		want.OneAtATime = name == "" || name == ConfigOneAtATime
		if got, ok := Predefined(name); !ok || got != want {
			t.Errorf("Predefined(%q) = %+v, %v; want %+v", name, got, ok, want)
		}
	}
	if _, ok := Predefined("Custom"); ok {
		t.Error(`Predefined("Custom") found`)
	}
}

func TestNextHealth(t *testing.T) {
	t.Parallel()
	var (
		hc = Health{Healthy, RevisionCurrent}
		ho = Health{Healthy, RevisionOld}
		hu = Health{Healthy, RevisionUnknown}
		uc = Health{Unhealthy, RevisionCurrent}
		uo = Health{Unhealthy, RevisionOld}
		uu = Health{Unhealthy, RevisionUnknown}
	)
	const (
		ok      = cdapi.InstanceStatusSucceeded
		bad     = cdapi.InstanceStatusFailed
		unknown = cdapi.InstanceStatusUnknown
		skipped = cdapi.InstanceStatusSkipped
		pending = cdapi.InstanceStatusPending
		won     = cdapi.DeploymentStatusSucceeded
		lost    = cdapi.DeploymentStatusFailed
		stopped = cdapi.DeploymentStatusStopped
	)
	cases := []struct {
		name              string
		before            Health
		instance, overall string
		want              Health
	}{
		// §3.2 "After an overall success".
		{"success: current instances that succeeded stay current and healthy", hc, ok, won, hc},
		{"success: current instances that did not succeed become unknown and unhealthy", hc, bad, won, uu},
		{"success: old instances that succeeded become current", ho, ok, won, hc},
		{"success: unknown instances that succeeded become current", hu, ok, won, hc},
		{"success: old instances that did not succeed stay old", ho, bad, won, uo},
		{"success: unknown instances that did not succeed stay unknown", hu, bad, won, uu},
		{"success: unhealthy instances that succeeded become healthy", uo, ok, won, hc},
		{"success: unhealthy instances that did not succeed stay unhealthy", uo, bad, won, uo},
		{"success: a never-deployed instance that succeeded", Health{}, ok, won, hc},
		// §3.2 "After an overall failure or stop": "attempted instances
		// become healthy or unhealthy according to their result; untouched
		// instances keep their health"; the group's revision stays, so no
		// instance becomes current (see NextHealth).
		{"failure: an attempted instance that succeeded is healthy, revision unknown", uo, ok, lost, hu},
		{"failure: a current instance that failed", hc, bad, lost, uu},
		{"failure: an old instance that failed stays old", ho, bad, lost, uo},
		{"failure: an unhealthy current instance that failed", uc, bad, lost, uu},
		{"failure: a skipped instance keeps its health", ho, skipped, lost, ho},
		{"failure: a pending instance keeps its health", hc, pending, lost, hc},
		{"failure: a zero health reads as never deployed", Health{}, skipped, lost, uu},
		{"stop: an instance stopped mid-lifecycle is attempted and unhealthy", hc, unknown, stopped, uu},
		{"stop: an instance that succeeded before the stop", hc, ok, stopped, hu},
		{"stop: a skipped instance keeps its health", hc, skipped, stopped, hc},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := NextHealth(tc.before, tc.instance, tc.overall); got != tc.want {
				t.Fatalf("NextHealth(%+v, %s, %s) = %+v; want %+v", tc.before, tc.instance, tc.overall, got, tc.want)
			}
		})
	}
}

func TestInPlaceOrder(t *testing.T) {
	t.Parallel()
	// §2.3: "Without an LB the six traffic events are skipped, leaving:
	// ApplicationStop → DownloadBundle → BeforeInstall → Install →
	// AfterInstall → ApplicationStart → ValidateService".
	noLB := []string{"ApplicationStop", "DownloadBundle", "BeforeInstall", "Install", "AfterInstall", "ApplicationStart", "ValidateService"}
	// §2.3 in-place: "Start → BeforeBlockTraffic → BlockTraffic →
	// AfterBlockTraffic → ApplicationStop → … → ValidateService →
	// BeforeAllowTraffic → AllowTraffic → AfterAllowTraffic → End".
	lb := append(append([]string{"BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic"}, noLB...),
		"BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")
	if got := InPlaceOrder(false); !reflect.DeepEqual(got, noLB) {
		t.Errorf("InPlaceOrder(false) = %v", got)
	}
	if got := InPlaceOrder(true); !reflect.DeepEqual(got, lb) {
		t.Errorf("InPlaceOrder(true) = %v", got)
	}
	for _, ev := range lb {
		want := ev == "ApplicationStop" || ev == "BeforeBlockTraffic" || ev == "AfterBlockTraffic"
		if UsesPreviousRevision(ev) != want {
			t.Errorf("UsesPreviousRevision(%s) = %v", ev, !want)
		}
	}
}
