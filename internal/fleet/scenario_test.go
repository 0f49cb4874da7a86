package fleet

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/slipway-cd/slipway/internal/cdapi"
)

// sim plays a deployment: it plans, applies the commands, resolves the
// events in progress through outcome and plans again until the deployment
// finishes. It checks the planner's invariants at every step.
type sim struct {
	t        *testing.T
	st       *State
	byID     map[string]*Instance
	pos      map[string]int // instance → 1-based position in start order
	started  []string       // instances in start order
	batches  []int          // instances started by each Plan call
	final    *FinishDeployment
	min      int
	batch    int
	valid    bool
	maxSteps int
}

func newSim(t *testing.T, st *State) *sim {
	s := &sim{t: t, st: st, byID: map[string]*Instance{}, pos: map[string]int{}, maxSteps: 10000}
	for _, in := range st.Instances {
		s.byID[in.ID] = in
	}
	s.valid = CheckConstraints(len(st.Instances), st.Config) == nil
	if s.valid {
		s.min, _ = MinHealthy(len(st.Instances), st.Config)
		s.batch, _ = BatchSize(len(st.Instances), st.Config)
	}
	return s
}

// outcome decides the result of an event in progress: "" leaves it running.
type outcome func(s *sim, in *Instance, event string) string

// run plays the deployment to its end; between plans, stopAt may request a
// stop.
func (s *sim) run(resolve outcome, stopAt func(step int) *StopRequest) {
	s.t.Helper()
	for step := range s.maxSteps {
		if stopAt != nil && s.st.Stop == nil {
			s.st.Stop = stopAt(step)
		}
		s.plan()
		if s.final != nil {
			if again := Plan(s.st); len(again) != 0 {
				s.t.Fatalf("Plan after the deployment finished = %v", describe(again))
			}
			s.checkEnd()
			return
		}
		if again := Plan(s.st); len(again) != 0 {
			s.t.Fatalf("step %d: Plan is not at a fixpoint: %v", step, describe(again))
		}
		s.resolve(resolve)
	}
	s.t.Fatalf("the deployment did not finish in %d steps", s.maxSteps)
}

// plan runs the planner once, checks it left its input alone, and applies
// its commands.
func (s *sim) plan() {
	s.t.Helper()
	before := clone(s.st)
	cmds := Plan(s.st)
	if !reflect.DeepEqual(before, s.st) {
		s.t.Fatal("Plan modified its input")
	}
	n := 0
	for _, c := range cmds {
		if s.final != nil {
			s.t.Fatalf("command after FinishDeployment: %v", describe(cmds))
		}
		if _, ok := c.(StartEvent); ok && s.st.Stop != nil {
			s.t.Fatalf("an event started after the stop request: %v", describe(cmds))
		}
		if sc, ok := c.(StartEvent); ok && s.byID[sc.Instance].status() == instPending {
			s.started = append(s.started, sc.Instance)
			s.pos[sc.Instance] = len(s.started)
			n++
		}
		apply(s.st, s.byID, c)
		if f, ok := c.(FinishDeployment); ok {
			s.final = &f
		}
	}
	if n > 0 {
		s.batches = append(s.batches, n)
	}
	s.checkStep()
}

// resolve sets the results of events in progress; at least one must end.
func (s *sim) resolve(decide outcome) {
	s.t.Helper()
	ended := 0
	for _, in := range s.st.Instances {
		for _, ev := range s.st.Order {
			if in.EventStatus(ev) != evInProgress {
				continue
			}
			if r := decide(s, in, ev); r != "" {
				in.Events[ev] = r
				ended++
			}
		}
	}
	if ended == 0 {
		// Nothing ended this round: end one so the play goes on.
		for _, in := range s.st.Instances {
			if ev := in.NextEvent(s.st.Order); ev != "" && in.EventStatus(ev) == evInProgress {
				in.Events[ev] = evSucceeded
				return
			}
		}
		s.t.Fatalf("stuck: no event in progress and the deployment has not finished; instances %v", s.statuses())
	}
}

// checkStep checks the invariants that hold after every plan.
func (s *sim) checkStep() {
	s.t.Helper()
	inProgress, healthyOffline, available := 0, 0, 0
	for _, in := range s.st.Instances {
		switch in.status() {
		case instInProgress:
			inProgress++
			if in.Health.IsHealthy() {
				healthyOffline++
			}
		case instSucceeded:
			available++
		case instPending, instSkipped:
			if in.Health.IsHealthy() {
				available++
			}
		}
	}
	if !s.valid && inProgress > 0 {
		s.t.Fatalf("deployment with invalid constraints has %d instances in progress", inProgress)
	}
	if inProgress > s.batch {
		s.t.Fatalf("%d instances in progress; the batch size is %d (total %d, min %d)", inProgress, s.batch, len(s.st.Instances), s.min)
	}
	// A healthy instance goes offline only while the available healthy
	// instances stay at the minimum or above.
	if !s.st.Config.OneAtATime && healthyOffline > 0 && available < s.min {
		s.t.Fatalf("healthy instances offline with %d available, below the minimum %d", available, s.min)
	}
}

// checkEnd checks the finished deployment against the success rules.
func (s *sim) checkEnd() {
	s.t.Helper()
	var succeeded, failedN, skipped int
	for _, in := range s.st.Instances {
		switch in.status() {
		case instSucceeded:
			succeeded++
		case instFailed, instUnknown:
			failedN++
		case instSkipped:
			skipped++
		default:
			s.t.Fatalf("instance %s ends %s", in.ID, in.status())
		}
		if ev := in.NextEvent(s.st.Order); ev != "" {
			s.t.Fatalf("instance %s ends with event %s %s", in.ID, ev, in.EventStatus(ev))
		}
		if want := NextHealth(in.Health, in.status(), s.final.Status); s.final.Health[in.ID] != want {
			s.t.Fatalf("health of %s = %+v; want %+v", in.ID, s.final.Health[in.ID], want)
		}
	}
	// OneAtATime: "the last instance may fail".
	oneOK := !s.st.Config.OneAtATime || failedN == 0 ||
		failedN == 1 && len(s.started) > 0 && s.byID[s.started[len(s.started)-1]].status() != instSucceeded
	f := s.final
	switch f.Status {
	case cdapi.DeploymentStatusSucceeded:
		// "CodeDeploy is able to deploy to each instance" and "at least one
		// instance must succeed", and at least the minimum did.
		if skipped > 0 || succeeded < max(s.min, 1) || !oneOK || f.ErrorCode != "" {
			s.t.Fatalf("Succeeded with %d succeeded, %d failed, %d skipped (min %d)", succeeded, failedN, skipped, s.min)
		}
	case cdapi.DeploymentStatusStopped:
		if s.st.Stop == nil || f.ErrorCode != s.st.Stop.ErrorCode {
			s.t.Fatalf("Stopped (%s) without that stop request", f.ErrorCode)
		}
	case cdapi.DeploymentStatusFailed:
		switch f.ErrorCode {
		case cdapi.ErrorCodeHealthConstraints:
			if skipped == 0 && succeeded >= max(s.min, 1) && oneOK {
				s.t.Fatalf("HEALTH_CONSTRAINTS with %d succeeded, %d failed, none skipped (min %d)", succeeded, failedN, s.min)
			}
		case cdapi.ErrorCodeHealthConstraintsInvalid, cdapi.ErrorCodeNoInstances:
			if s.valid || len(s.started) > 0 {
				s.t.Fatalf("%s for a deployment that could start", f.ErrorCode)
			}
		default:
			s.t.Fatalf("unexpected error code %q", f.ErrorCode)
		}
	default:
		s.t.Fatalf("unexpected final status %q", f.Status)
	}
}

func (s *sim) statuses() map[string]string {
	out := map[string]string{}
	for _, in := range s.st.Instances {
		out[in.ID] = in.status()
	}
	return out
}

// failAt fails event for the instances started at the given positions and
// lets every other event succeed.
func failAt(event string, positions ...int) outcome {
	return func(s *sim, in *Instance, ev string) string {
		if ev == event && slices.Contains(positions, s.pos[in.ID]) {
			return cdapi.LifecycleEventStatusFailed
		}
		return evSucceeded
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func ones(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

// TestWorkedExamples plays the worked examples of codedeploy.md §3.1–§3.2.
// Instances are healthy with the current revision unless listed unhealthy;
// fails lists, by start position, the instances whose AfterInstall fails.
func TestWorkedExamples(t *testing.T) {
	t.Parallel()
	type result struct {
		status, code               string
		batches                    []int // instances started per plan
		succeeded, failed, skipped int
		healthy                    int      // healthy instances afterwards
		order                      []string // start order, when checked
	}
	const (
		ok      = cdapi.DeploymentStatusSucceeded
		lost    = cdapi.DeploymentStatusFailed
		hcCode  = cdapi.ErrorCodeHealthConstraints
		invalid = cdapi.ErrorCodeHealthConstraintsInvalid
	)
	var (
		half = predefined(t, ConfigHalfAtATime)
		one  = predefined(t, ConfigOneAtATime)
		all  = predefined(t, ConfigAllAtOnce)
	)
	cases := []struct {
		name      string
		cfg       Config
		n         int
		unhealthy []int // 1-based instance numbers
		fails     []int
		want      result
	}{
		// "95%: rounds up to 10 = all hosts, so the deployment fails
		// immediately without deploying anywhere."
		{"10 at 95%: fails immediately", percent(95), 10, nil, nil,
			result{lost, invalid, nil, 0, 0, 10, 10, nil}},

		// "9: one at a time. Any failure fails the deployment, except a
		// failure on the last instance. All 10 succeeding leaves 10 healthy."
		{"10 with min 9: one at a time, all succeed, 10 healthy", hosts(9), 10, nil, nil,
			result{ok, "", ones(10), 10, 0, 0, 10, nil}},
		{"10 with min 9: the first failure fails the deployment", hosts(9), 10, nil, []int{1},
			result{lost, hcCode, ones(1), 0, 1, 9, 9, nil}},
		{"10 with min 9: a failure on the fifth fails the deployment", hosts(9), 10, nil, []int{5},
			result{lost, hcCode, ones(5), 4, 1, 5, 9, nil}},
		{"10 with min 9: a failure on the ninth fails the deployment", hosts(9), 10, nil, []int{9},
			result{lost, hcCode, ones(9), 8, 1, 1, 9, nil}},
		{"10 with min 9: except a failure on the last instance", hosts(9), 10, nil, []int{10},
			result{ok, "", ones(10), 9, 1, 0, 9, nil}},

		// "8: two at a time. Two failures fail the deployment, 'if the last
		// instance is the second to fail, the deployment still succeeds.'"
		{"10 with min 8: two at a time", hosts(8), 10, nil, nil,
			result{ok, "", []int{2, 2, 2, 2, 2}, 10, 0, 0, 10, nil}},
		{"10 with min 8: two failures in one batch fail the deployment", hosts(8), 10, nil, []int{1, 2},
			result{lost, hcCode, []int{2}, 0, 2, 8, 8, nil}},
		// After one failure 9 are healthy: one more may go offline at a time.
		{"10 with min 8: two failures in different batches fail the deployment", hosts(8), 10, nil, []int{1, 5},
			result{lost, hcCode, []int{2, 1, 1, 1}, 3, 2, 5, 8, nil}},
		{"10 with min 8: the last instance is the second to fail: success", hosts(8), 10, nil, []int{1, 10},
			result{ok, "", []int{2, 1, 1, 1, 1, 1, 1, 1, 1}, 8, 2, 0, 8, nil}},
		{"10 with min 8: the last instance is the second to fail, after two batches: success", hosts(8), 10, nil, []int{4, 10},
			result{ok, "", []int{2, 2, 1, 1, 1, 1, 1, 1}, 8, 2, 0, 8, nil}},

		// "min 3 → 7 in the first batch, then the remaining 3"
		{"10 with min 3: 7, then the remaining 3", hosts(3), 10, nil, nil,
			result{ok, "", []int{7, 3}, 10, 0, 0, 10, nil}},

		// "0: all at once. At least one must succeed; 0 healthy means
		// Failed."
		{"10 with min 0: all at once", hosts(0), 10, nil, nil,
			result{ok, "", []int{10}, 10, 0, 0, 10, nil}},
		{"10 with min 0: none succeeds: Failed", hosts(0), 10, nil, seq(1, 10),
			result{lost, hcCode, []int{10}, 0, 10, 0, 0, nil}},
		{"10 with min 0: one success is enough", hosts(0), 10, nil, seq(2, 10),
			result{ok, "", []int{10}, 1, 9, 0, 1, nil}},

		// AllAtOnce: "Succeeded if the revision is deployed to one or more
		// instances; Failed only if every instance fails (9-instance
		// example: fails only if all 9 fail)."
		{"AllAtOnce on 9: 8 failures still succeed", all, 9, nil, seq(1, 8),
			result{ok, "", []int{9}, 1, 8, 0, 1, nil}},
		{"AllAtOnce on 9: fails only if all 9 fail", all, 9, nil, seq(1, 9),
			result{lost, hcCode, []int{9}, 0, 9, 0, 0, nil}},

		// "85%: 85% of 10 with one instance offline is 90%. One failure plus
		// one offline is 80%, which is below 85%, so the deployment fails
		// 'if deployment to even a single instance fails.'"
		{"10 at 85%: a single failure fails the deployment", percent(85), 10, nil, []int{1},
			result{lost, hcCode, ones(1), 0, 1, 9, 9, nil}},
		{"10 at 85%: a single failure later fails the deployment", percent(85), 10, nil, []int{6},
			result{lost, hcCode, ones(6), 5, 1, 4, 9, nil}},
		// 85% of 10 is the minimum of 9 of the "9" example, whose last
		// instance may fail: with no instance left to take offline the
		// healthy count does not fall below the minimum.
		{"10 at 85%: as with min 9, the last instance may fail", percent(85), 10, nil, []int{10},
			result{ok, "", ones(10), 9, 1, 0, 9, nil}},

		// HalfAtATime: "up to half of the instances at a time (with
		// fractions rounded down); succeeds if deployed to at least half…
		// (with fractions rounded up). 9 instances: up to 4 at a time;
		// success needs ≥5."
		{"HalfAtATime on 9: up to 4 at a time", half, 9, nil, nil,
			result{ok, "", []int{4, 4, 1}, 9, 0, 0, 9, nil}},
		{"HalfAtATime on 9: exactly 5 succeed: success", half, 9, nil, []int{6, 7, 8, 9},
			result{ok, "", []int{4, 4, 1}, 5, 4, 0, 5, nil}},
		{"HalfAtATime on 9: 4 failures in the first batch: the healthy rest cannot go offline", half, 9, nil, seq(1, 4),
			result{lost, hcCode, []int{4}, 0, 4, 5, 5, nil}},
		{"HalfAtATime on 9: 4 failures in the second batch leave 5 healthy: the last cannot go offline", half, 9, nil, seq(5, 8),
			result{lost, hcCode, []int{4, 4}, 4, 4, 1, 5, nil}},
		// A first deployment: every instance unhealthy, none goes offline.
		{"HalfAtATime on 9 unhealthy: 4 failures, 5 successes: success", half, 9, seq(1, 9), seq(1, 4),
			result{ok, "", []int{4, 4, 1}, 5, 4, 0, 5, nil}},
		// The fifth failure leaves at most 4 possible successes: the
		// deployment fails; the instances in progress run to their end.
		{"HalfAtATime on 9 unhealthy: 5 failures: Failed", half, 9, seq(1, 9), seq(1, 5),
			result{lost, hcCode, []int{4, 4}, 3, 5, 1, 3, nil}},

		// OneAtATime: "success if all succeed, except the last instance may
		// fail… fails as soon as the application revision fails to be
		// deployed to any but the last instance. 9-instance example: success
		// if the first 8 succeed. With exactly one instance, success only if
		// that instance succeeds."
		{"OneAtATime on 9: all succeed", one, 9, nil, nil,
			result{ok, "", ones(9), 9, 0, 0, 9, nil}},
		{"OneAtATime on 9: success if the first 8 succeed", one, 9, nil, []int{9},
			result{ok, "", ones(9), 8, 1, 0, 8, nil}},
		{"OneAtATime on 9: a failure on the eighth fails", one, 9, nil, []int{8},
			result{lost, hcCode, ones(8), 7, 1, 1, 8, nil}},
		{"OneAtATime on 9: a failure on the first fails", one, 9, nil, []int{1},
			result{lost, hcCode, ones(1), 0, 1, 8, 8, nil}},
		{"OneAtATime on unhealthy instances: a failure on the first still fails", one, 3, seq(1, 3), []int{1},
			result{lost, hcCode, ones(1), 0, 1, 2, 0, nil}},
		{"OneAtATime on 2: the last may fail", one, 2, nil, []int{2},
			result{ok, "", ones(2), 1, 1, 0, 1, nil}},
		{"OneAtATime on 1: success if it succeeds", one, 1, nil, nil,
			result{ok, "", ones(1), 1, 0, 0, 1, nil}},
		{"OneAtATime on 1: Failed if it fails", one, 1, nil, []int{1},
			result{lost, hcCode, ones(1), 0, 1, 0, 0, nil}},

		// "Start: deploy to unhealthy instances first. For each success, mark
		// the instance healthy and compare with the minimum": 7 healthy of
		// 10 with min 8; the 3 unhealthy go first, 2 at a time; then the
		// healthy count exceeds the minimum and healthy instances follow.
		{"unhealthy instances first", hosts(8), 10, []int{8, 9, 10}, nil,
			result{ok, "", []int{2, 2, 2, 2, 2}, 10, 0, 0, 10,
				[]string{"i08", "i09", "i10", "i01", "i02", "i03", "i04", "i05", "i06", "i07"}}},
		// "when a deployment group initially has less than the specified
		// minimum number of healthy instances… the deployment process does
		// not reduce the number of healthy instances any further": 5 of 10
		// healthy with min 6; a failed unhealthy instance takes nothing away.
		// Batches: i01–i04 (unhealthy, 4 = 10 − 6); i01 fails at AfterInstall
		// and frees its place, taken by the unhealthy i05; when i02–i04
		// succeed, 8 are healthy: i06 and i07 may go offline (8 → 6); when
		// i05 succeeds, i08; when i06 and i07 do, i09 and i10.
		{"a group below the minimum is deployed without reducing its healthy instances", hosts(6), 10, seq(1, 5), []int{1},
			result{ok, "", []int{4, 1, 2, 1, 2}, 9, 1, 0, 9, nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := &State{
				Config: tc.cfg, Status: cdapi.DeploymentStatusInProgress, Order: InPlaceOrder(false),
				Instances: fleetOf(tc.n, func(i int, in *Instance) {
					if slices.Contains(tc.unhealthy, i+1) {
						in.Health = uu
					}
				}),
			}
			s := newSim(t, st)
			s.run(failAt(EventAfterInstall, tc.fails...), nil)
			got := result{status: s.final.Status, code: s.final.ErrorCode, batches: s.batches, healthy: 0}
			for _, in := range st.Instances {
				switch in.status() {
				case instSucceeded:
					got.succeeded++
				case instFailed:
					got.failed++
				case instSkipped:
					got.skipped++
				}
				if s.final.Health[in.ID].IsHealthy() {
					got.healthy++
				}
			}
			if tc.want.order != nil {
				got.order = s.started
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestStopScenario stops a deployment in the middle of a batch.
func TestStopScenario(t *testing.T) {
	t.Parallel()
	st := &State{
		Config: hosts(6), Status: cdapi.DeploymentStatusInProgress, Order: InPlaceOrder(false),
		Instances: fleetOf(10, nil),
	}
	s := newSim(t, st)
	stop := &StopRequest{ErrorCode: cdapi.ErrorCodeManualStop, Message: "stopped"}
	s.run(failAt(""), func(step int) *StopRequest {
		if step == 3 { // first batch of 4 is running its third event
			return stop
		}
		return nil
	})
	counts := map[string]int{}
	for _, in := range st.Instances {
		counts[in.status()]++
	}
	want := map[string]int{instUnknown: 4, instSkipped: 6}
	if s.final.Status != cdapi.DeploymentStatusStopped || !reflect.DeepEqual(counts, want) {
		t.Fatalf("stopped deployment: %s with instances %v; want Stopped with %v", s.final.Status, counts, want)
	}
	for _, in := range st.Instances[:4] {
		if got := in.Events[EventBeforeInstall]; got != evSucceeded {
			t.Errorf("%s BeforeInstall = %s; the event running at the stop finishes", in.ID, got)
		}
		if got := in.Events[EventInstall]; got != evSkipped {
			t.Errorf("%s Install = %s; no event starts after the stop", in.ID, got)
		}
	}
}

// TestPlanProperties plays random fleets, configurations and outcomes and
// checks the invariants in sim: never more instances in progress than the
// batch size, never a healthy instance offline below the minimum, Plan
// pure and at a fixpoint, termination, and a final status that follows the
// success rules.
func TestPlanProperties(t *testing.T) {
	t.Parallel()
	for seed := range uint64(3000) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			st := randomState(rng)
			s := newSim(t, st)
			s.maxSteps = 20 * (len(st.Instances) + 1) * (len(st.Order) + 1)
			pFail, pUnknown, pEnd := rng.Float64()*0.5, rng.Float64()*0.05, 0.3+rng.Float64()*0.7
			stopStep := -1
			if rng.IntN(4) == 0 {
				stopStep = rng.IntN(3*len(st.Instances) + 1)
			}
			s.run(func(_ *sim, _ *Instance, _ string) string {
				switch r := rng.Float64(); {
				case r > pEnd:
					return "" // still running
				case r < pUnknown:
					return cdapi.LifecycleEventStatusUnknown
				case r < pUnknown+pFail:
					return cdapi.LifecycleEventStatusFailed
				}
				return evSucceeded
			}, func(step int) *StopRequest {
				if step == stopStep {
					return &StopRequest{ErrorCode: cdapi.ErrorCodeAlarmActive, Message: "alarm"}
				}
				return nil
			})
		})
	}
}

func randomState(rng *rand.Rand) *State {
	n := rng.IntN(26)
	var cfg Config
	switch rng.IntN(5) {
	case 0:
		cfg, _ = Predefined([]string{ConfigOneAtATime, ConfigHalfAtATime, ConfigAllAtOnce}[rng.IntN(3)])
	case 1, 2:
		cfg = hosts(rng.IntN(n + 2))
	default:
		cfg = percent(rng.IntN(101))
	}
	healths := []Health{hc, ho, hu, uc, uu, fresh}
	order := [][]string{InPlaceOrder(false), InPlaceOrder(true), short, {EventInstall}}[rng.IntN(4)]
	return &State{
		Config: cfg, IgnoreApplicationStopFailures: rng.IntN(2) == 0,
		Status: cdapi.DeploymentStatusInProgress, Order: order,
		Instances: fleetOf(n, func(_ int, in *Instance) {
			in.Health = healths[rng.IntN(len(healths))]
			in.FirstDeployment = rng.IntN(4) == 0
		}),
	}
}
