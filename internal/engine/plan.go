package engine

import (
	"cmp"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// Status values used by the planner (the model's enums).
const (
	execInProgress = cpapi.PipelineExecutionStatusInProgress
	execStopping   = cpapi.PipelineExecutionStatusStopping
	execStopped    = cpapi.PipelineExecutionStatusStopped
	execSucceeded  = cpapi.PipelineExecutionStatusSucceeded
	execFailed     = cpapi.PipelineExecutionStatusFailed
	execSuperseded = cpapi.PipelineExecutionStatusSuperseded

	stageInProgress = cpapi.StageExecutionStatusInProgress
	stageStopping   = cpapi.StageExecutionStatusStopping
	stageStopped    = cpapi.StageExecutionStatusStopped
	stageSucceeded  = cpapi.StageExecutionStatusSucceeded
	stageFailed     = cpapi.StageExecutionStatusFailed

	actionInProgress = cpapi.ActionExecutionStatusInProgress
	actionSucceeded  = cpapi.ActionExecutionStatusSucceeded
	actionFailed     = cpapi.ActionExecutionStatusFailed
	actionAbandoned  = cpapi.ActionExecutionStatusAbandoned
)

// Execution is the planner's view of an active pipeline execution.
type Execution struct {
	ID     string
	Seq    int64  // start order: larger is newer
	Status string // InProgress or Stopping (active executions only)
	// Stage is the stage the execution is in, or waits to enter when
	// Waiting is true.
	Stage   string
	Waiting bool
}

// StageRun is one execution's run of one stage.
type StageRun struct {
	ExecutionID string
	Stage       string
	Status      string // StageExecutionStatus
	// Attempt counts runs of the stage by this execution: 1, then +1 for
	// every RetryStageExecution. RetryMode is the mode of the last retry.
	Attempt   int
	RetryMode string
}

// ActionRun is the latest run of one action by one execution.
type ActionRun struct {
	ExecutionID  string
	Stage        string
	Action       string
	StageAttempt int    // the stage attempt the run belongs to
	Status       string // ActionExecutionStatus
}

// State is everything the planner reads: the pipeline declaration the
// active executions run, its active executions, their stage and action runs,
// and the disabled inbound transitions.
type State struct {
	Pipeline        *cpapi.PipelineDeclaration
	Executions      []*Execution
	Stages          []*StageRun
	Actions         []*ActionRun
	DisabledInbound map[string]bool // stage name -> inbound transition disabled
}

// Command is one step the runner applies to the stored state.
type Command interface{ command() }

// EnterStage moves a waiting execution into its stage.
type EnterStage struct{ ExecutionID, Stage string }

// StartAction starts a run of an action in the execution's current stage.
type StartAction struct {
	ExecutionID, Stage, Action string
	StageAttempt               int
}

// FinishStage ends an execution's run of a stage with Status.
type FinishStage struct{ ExecutionID, Stage, Status string }

// Advance makes an execution wait for the inbound transition of Stage.
type Advance struct{ ExecutionID, Stage string }

// FinishExecution ends an execution with Status (Succeeded, Failed,
// Stopped or Superseded).
type FinishExecution struct{ ExecutionID, Status, Summary string }

func (EnterStage) command()      {}
func (StartAction) command()     {}
func (FinishStage) command()     {}
func (Advance) command()         {}
func (FinishExecution) command() {}

// maxPasses bounds the planner's fixpoint loop; each pass makes progress.
const maxPasses = 1000

// Plan returns the commands that bring the state forward, in the order the
// runner must apply them. It is pure: st is not modified.
//
// Rules (CodePipeline semantics):
//   - Inside a stage, actions run in groups of equal runOrder, ascending;
//     actions of a group run in parallel and the next group starts when
//     every action of the current group succeeded. When a group has a
//     failed action and none still in progress, the stage and the
//     execution fail.
//   - A stage holds one execution at a time (SUPERSEDED and QUEUED modes).
//     An execution that finished the previous stage waits at the inbound
//     transition. In SUPERSEDED mode a newer waiting execution replaces an
//     older one, which ends Superseded; in QUEUED mode waiting executions
//     enter in start order. In PARALLEL mode stages are never held.
//   - A disabled inbound transition keeps executions waiting in front of it.
//   - A Stopping execution starts nothing new; it ends Stopped when no
//     action of it is still in progress.
func Plan(st *State) []Command {
	p := newPlanner(st)
	var out []Command
	for range maxPasses {
		cmds := p.pass()
		if len(cmds) == 0 {
			break
		}
		out = append(out, cmds...)
	}
	return out
}

type planner struct {
	decl     *cpapi.PipelineDeclaration
	mode     string
	execs    []*Execution
	stages   map[[2]string]*StageRun
	actions  map[[3]string]*ActionRun
	disabled map[string]bool
	index    map[string]int // stage name -> position
}

func newPlanner(st *State) *planner {
	p := &planner{
		decl:     st.Pipeline,
		mode:     cmp.Or(st.Pipeline.ExecutionMode, cpapi.ExecutionModeSuperseded),
		stages:   map[[2]string]*StageRun{},
		actions:  map[[3]string]*ActionRun{},
		disabled: st.DisabledInbound,
		index:    map[string]int{},
	}
	for i, s := range st.Pipeline.Stages {
		p.index[s.Name] = i
	}
	for _, e := range st.Executions {
		c := *e
		p.execs = append(p.execs, &c)
	}
	slices.SortFunc(p.execs, func(a, b *Execution) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, s := range st.Stages {
		c := *s
		p.stages[[2]string{s.ExecutionID, s.Stage}] = &c
	}
	for _, a := range st.Actions {
		c := *a
		p.actions[[3]string{a.ExecutionID, a.Stage, a.Action}] = &c
	}
	return p
}

// pass makes one round of decisions over all executions, applying each to
// the planner's copy of the state.
func (p *planner) pass() []Command {
	var out []Command
	emit := func(c Command) {
		p.apply(c)
		out = append(out, c)
	}
	for _, e := range p.execs {
		// Take each execution as far as it goes before the next one.
		for range maxPasses {
			if e.Status != execInProgress && e.Status != execStopping {
				break
			}
			n := len(out)
			if e.Waiting {
				p.planWaiting(e, emit)
			} else {
				p.planRunning(e, emit)
			}
			if len(out) == n {
				break
			}
		}
	}
	return out
}

func (p *planner) planWaiting(e *Execution, emit func(Command)) {
	if e.Status == execStopping {
		emit(FinishExecution{ExecutionID: e.ID, Status: execStopped, Summary: "stopped before entering stage " + e.Stage})
		return
	}
	if p.mode != cpapi.ExecutionModeParallel {
		if p.mode == cpapi.ExecutionModeSuperseded {
			if newer := p.newerWaiter(e); newer != nil {
				emit(FinishExecution{ExecutionID: e.ID, Status: execSuperseded,
					Summary: "superseded by execution " + newer.ID + " while waiting to enter stage " + e.Stage})
				return
			}
		} else if older := p.olderWaiter(e); older != nil {
			return // QUEUED: first come, first served
		}
		if p.occupant(e.Stage) != nil {
			return
		}
	}
	if p.disabled[e.Stage] {
		return
	}
	emit(EnterStage{ExecutionID: e.ID, Stage: e.Stage})
}

func (p *planner) planRunning(e *Execution, emit func(Command)) {
	stage := p.stage(e.Stage)
	run := p.stages[[2]string{e.ID, e.Stage}]
	if stage == nil || run == nil {
		emit(FinishExecution{ExecutionID: e.ID, Status: execFailed, Summary: "stage " + e.Stage + " is no longer part of the pipeline"})
		return
	}
	inProgress, failed, pending := false, false, []string{}
	for _, group := range groups(stage) {
		for _, a := range group {
			r := p.actions[[3]string{e.ID, e.Stage, a.Name}]
			switch {
			case r == nil || p.rerun(run, r):
				pending = append(pending, a.Name)
			case r.Status == actionInProgress:
				inProgress = true
			case r.Status != actionSucceeded:
				failed = true
			}
		}
		if inProgress || failed || len(pending) > 0 {
			break
		}
	}
	switch {
	case e.Status == execStopping:
		if !inProgress {
			emit(FinishStage{ExecutionID: e.ID, Stage: e.Stage, Status: stageStopped})
			emit(FinishExecution{ExecutionID: e.ID, Status: execStopped, Summary: "stopped in stage " + e.Stage})
		}
	case failed && !inProgress:
		emit(FinishStage{ExecutionID: e.ID, Stage: e.Stage, Status: stageFailed})
		emit(FinishExecution{ExecutionID: e.ID, Status: execFailed, Summary: "an action failed in stage " + e.Stage})
	case failed || inProgress:
		// Wait for the group's runs to finish; nothing new starts after a failure.
		if !failed {
			for _, name := range pending {
				emit(StartAction{ExecutionID: e.ID, Stage: e.Stage, Action: name, StageAttempt: run.Attempt})
			}
		}
	case len(pending) > 0:
		for _, name := range pending {
			emit(StartAction{ExecutionID: e.ID, Stage: e.Stage, Action: name, StageAttempt: run.Attempt})
		}
	default:
		emit(FinishStage{ExecutionID: e.ID, Stage: e.Stage, Status: stageSucceeded})
		i := p.index[e.Stage]
		if i+1 == len(p.decl.Stages) {
			emit(FinishExecution{ExecutionID: e.ID, Status: execSucceeded})
		} else {
			emit(Advance{ExecutionID: e.ID, Stage: p.decl.Stages[i+1].Name})
		}
	}
}

// rerun reports whether a retry of the stage asks for r to run again.
func (p *planner) rerun(run *StageRun, r *ActionRun) bool {
	if r.StageAttempt >= run.Attempt || r.Status == actionInProgress {
		return false
	}
	return run.RetryMode == cpapi.StageRetryModeAllActions || r.Status != actionSucceeded
}

// newerWaiter returns a newer execution waiting for the same stage.
func (p *planner) newerWaiter(e *Execution) *Execution {
	var found *Execution
	for _, o := range p.execs {
		if o.Seq > e.Seq && o.Waiting && o.Stage == e.Stage && o.Status == execInProgress {
			found = o
		}
	}
	return found
}

// olderWaiter returns an older execution waiting for the same stage.
func (p *planner) olderWaiter(e *Execution) *Execution {
	for _, o := range p.execs {
		if o.Seq < e.Seq && o.Waiting && o.Stage == e.Stage && o.Status == execInProgress {
			return o
		}
	}
	return nil
}

// occupant returns the execution running in the stage, if any.
func (p *planner) occupant(stage string) *Execution {
	for _, o := range p.execs {
		if !o.Waiting && o.Stage == stage && (o.Status == execInProgress || o.Status == execStopping) {
			return o
		}
	}
	return nil
}

func (p *planner) stage(name string) *cpapi.StageDeclaration {
	i, ok := p.index[name]
	if !ok {
		return nil
	}
	return &p.decl.Stages[i]
}

func (p *planner) exec(id string) *Execution {
	for _, e := range p.execs {
		if e.ID == id {
			return e
		}
	}
	return nil
}

// apply records a command's effect in the planner's copy of the state.
func (p *planner) apply(c Command) {
	switch c := c.(type) {
	case EnterStage:
		e := p.exec(c.ExecutionID)
		e.Waiting = false
		key := [2]string{c.ExecutionID, c.Stage}
		if r := p.stages[key]; r != nil {
			r.Status, r.Attempt = stageInProgress, r.Attempt+1
		} else {
			p.stages[key] = &StageRun{ExecutionID: c.ExecutionID, Stage: c.Stage, Status: stageInProgress, Attempt: 1}
		}
	case StartAction:
		p.actions[[3]string{c.ExecutionID, c.Stage, c.Action}] = &ActionRun{
			ExecutionID: c.ExecutionID, Stage: c.Stage, Action: c.Action, StageAttempt: c.StageAttempt, Status: actionInProgress}
	case FinishStage:
		p.stages[[2]string{c.ExecutionID, c.Stage}].Status = c.Status
	case Advance:
		e := p.exec(c.ExecutionID)
		e.Stage, e.Waiting = c.Stage, true
	case FinishExecution:
		p.exec(c.ExecutionID).Status = c.Status
	}
}

// groups returns a stage's actions grouped by runOrder, ascending.
func groups(s *cpapi.StageDeclaration) [][]cpapi.ActionDeclaration {
	byOrder := map[int32][]cpapi.ActionDeclaration{}
	var orders []int32
	for _, a := range s.Actions {
		o := aws.ToInt32(a.RunOrder)
		if o == 0 {
			o = 1
		}
		if _, ok := byOrder[o]; !ok {
			orders = append(orders, o)
		}
		byOrder[o] = append(byOrder[o], a)
	}
	slices.Sort(orders)
	out := make([][]cpapi.ActionDeclaration, len(orders))
	for i, o := range orders {
		out[i] = byOrder[o]
	}
	return out
}
