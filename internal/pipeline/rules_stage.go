package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
)

// checkStages applies the rules about each stage on its own, stage by stage.
func (v *validator) checkStages() *awsproto.Error {
	seen := make(map[string]int, len(v.p.Stages))
	for i := range v.p.Stages {
		s := &v.p.Stages[i]
		if first, dup := seen[s.Name]; dup {
			return stageErr(cpapi.InvalidStageDeclarationException, s, "stages %d and %d are both named %q; "+
				"stage names must be unique within a pipeline, rename one of them", first+1, i+1, s.Name)
		}
		seen[s.Name] = i
		for _, check := range []func(int, *cpapi.StageDeclaration) *awsproto.Error{
			checkBlockers, v.checkRollback, checkActionTypesPresent, v.checkActionCount, v.checkRunOrderGroups,
		} {
			if err := check(i, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkBlockers: blocker names are unique in the stage and the type is
// Schedule, the only BlockerType.
func checkBlockers(_ int, s *cpapi.StageDeclaration) *awsproto.Error {
	seen := make(map[string]bool, len(s.Blockers))
	for _, b := range s.Blockers {
		if seen[b.Name] {
			return stageErr(cpapi.InvalidBlockerDeclarationException, s, "blocker %q is declared more than once; "+
				"blocker names must be unique within a stage", b.Name)
		}
		seen[b.Name] = true
		if b.Type != cpapi.BlockerTypeSchedule {
			return stageErr(cpapi.InvalidBlockerDeclarationException, s, "blocker %q has type %q; "+
				"the only blocker type is %q", b.Name, b.Type, cpapi.BlockerTypeSchedule)
		}
	}
	return nil
}

// checkRollback: a ROLLBACK result is not allowed on the first stage (a
// source stage cannot be rolled back) nor in PARALLEL execution mode
// (reference/peers.md §1.2, stage rollback and execution modes).
func (v *validator) checkRollback(i int, s *cpapi.StageDeclaration) *awsproto.Error {
	where := rollbackMember(s)
	switch {
	case where == "":
		return nil
	case i == 0:
		return stageErr(cpapi.InvalidStageDeclarationException, s, "%s has result ROLLBACK, but the first stage "+
			"cannot be rolled back; remove the ROLLBACK result", where)
	case v.p.ExecutionMode == cpapi.ExecutionModeParallel:
		return stageErr(cpapi.InvalidStageDeclarationException, s, "%s has result ROLLBACK, which pipelines in "+
			"PARALLEL execution mode do not support; use another result or execution mode", where)
	}
	return nil
}

// rollbackMember names the first member of s whose result is ROLLBACK, or
// returns "".
func rollbackMember(s *cpapi.StageDeclaration) string {
	if f := s.OnFailure; f != nil {
		if f.Result == cpapi.ResultRollback {
			return "onFailure"
		}
		if hasRollback(f.Conditions) {
			return "an onFailure condition"
		}
	}
	if s.OnSuccess != nil && hasRollback(s.OnSuccess.Conditions) {
		return "an onSuccess condition"
	}
	if s.BeforeEntry != nil && hasRollback(s.BeforeEntry.Conditions) {
		return "a beforeEntry condition"
	}
	return ""
}

func hasRollback(conditions []cpapi.Condition) bool {
	return slices.ContainsFunc(conditions, func(c cpapi.Condition) bool { return c.Result == cpapi.ResultRollback })
}

// checkActionTypesPresent: every action has an actionTypeId (the model
// requires it; later rules rely on it).
func checkActionTypesPresent(_ int, s *cpapi.StageDeclaration) *awsproto.Error {
	for j := range s.Actions {
		if a := &s.Actions[j]; a.ActionTypeId == nil {
			return actionErr(cpapi.InvalidActionDeclarationException, s, a, "has no actionTypeId; "+
				"set its category, owner, provider and version")
		}
	}
	return nil
}

// checkActionCount: 1..lim.MaxActionsPerStage actions.
func (v *validator) checkActionCount(_ int, s *cpapi.StageDeclaration) *awsproto.Error {
	n := len(s.Actions)
	if n == 0 {
		return stageErr(cpapi.InvalidStageDeclarationException, s, "the stage has no actions; "+
			"a stage must contain at least one action, add one or remove the stage")
	}
	if n > v.lim.MaxActionsPerStage {
		return stageErr(cpapi.InvalidStageDeclarationException, s, "the stage has %d actions; "+
			"at most %d are allowed in a stage, move some to another stage", n, v.lim.MaxActionsPerStage)
	}
	return nil
}

// checkRunOrderGroups: at most lim.MaxParallelActions actions share a
// runOrder, and at most lim.MaxSequentialActions distinct runOrders exist.
func (v *validator) checkRunOrderGroups(_ int, s *cpapi.StageDeclaration) *awsproto.Error {
	size := make(map[int32]int)
	for j := range s.Actions {
		size[runOrder(&s.Actions[j])]++
	}
	orders := make([]int32, 0, len(size))
	for o := range size {
		orders = append(orders, o)
	}
	slices.Sort(orders)
	for _, o := range orders {
		if size[o] > v.lim.MaxParallelActions {
			return stageErr(cpapi.InvalidStageDeclarationException, s, "%d actions have runOrder %d; "+
				"at most %d actions may run in parallel, give some of them another runOrder",
				size[o], o, v.lim.MaxParallelActions)
		}
	}
	if len(orders) > v.lim.MaxSequentialActions {
		return stageErr(cpapi.InvalidStageDeclarationException, s, "the actions use %d different runOrder values (%s); "+
			"at most %d sequential groups are allowed, give more actions the same runOrder to run them in parallel",
			len(orders), joinOrders(orders), v.lim.MaxSequentialActions)
	}
	return nil
}

func joinOrders(orders []int32) string {
	parts := make([]string, len(orders))
	for i, o := range orders {
		parts[i] = fmt.Sprint(o)
	}
	return strings.Join(parts, ", ")
}

// checkPlacement applies the source-stage rules of reference/codepipeline.md
// §2.3: the first stage contains at least one source action and only source
// actions, no other stage contains a source action, and at least one action
// is not a source action.
func (v *validator) checkPlacement() *awsproto.Error {
	first := &v.p.Stages[0]
	if !slices.ContainsFunc(first.Actions, func(a cpapi.ActionDeclaration) bool { return isSourceAction(&a) }) {
		return structureErr("stage %q: the first stage must contain at least one source action; "+
			"add a Source action (such as S3, CodeCommit or CodeStarSourceConnection) to it", first.Name)
	}
	if !v.hasNonSourceAction() {
		return structureErr("pipeline %q contains only source actions; at least one stage must contain an action "+
			"that is not a source action (build, test, deploy, approval, invoke or compute)", v.p.Name)
	}
	for i := range v.p.Stages {
		s := &v.p.Stages[i]
		for j := range s.Actions {
			if err := checkActionPlacement(i, s, &s.Actions[j]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v *validator) hasNonSourceAction() bool {
	for i := range v.p.Stages {
		for j := range v.p.Stages[i].Actions {
			if !isSourceAction(&v.p.Stages[i].Actions[j]) {
				return true
			}
		}
	}
	return false
}

func checkActionPlacement(i int, s *cpapi.StageDeclaration, a *cpapi.ActionDeclaration) *awsproto.Error {
	category := a.ActionTypeId.Category
	switch {
	case i == 0 && category == cpapi.ActionCategoryApproval:
		return structureErr("stage %q: action %q is an approval action, which cannot be added to the first stage; "+
			"the first stage can only contain source actions, move it to a later stage", s.Name, a.Name)
	case i == 0 && category != cpapi.ActionCategorySource:
		return structureErr("stage %q: action %q is a %s action; the first stage can only contain source actions, "+
			"move it to a later stage", s.Name, a.Name, category)
	case i > 0 && category == cpapi.ActionCategorySource:
		return structureErr("stage %q: action %q is a source action; only the first stage may contain source actions, "+
			"move it to the first stage", s.Name, a.Name)
	}
	return nil
}
