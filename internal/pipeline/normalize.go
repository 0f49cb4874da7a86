package pipeline

import (
	"fmt"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// Normalize fills in the defaults of a declaration in place, as the service
// stores and returns it:
//
//   - an action without runOrder gets runOrder 1 ("The default runOrder value
//     for an action is 1", reference/codepipeline.md §2.4);
//   - a missing executionMode becomes SUPERSEDED ("The default mode is
//     SUPERSEDED", model doc of PipelineDeclaration.executionMode);
//   - a missing pipelineType becomes V2 when the declaration uses a V2-only
//     member ("Including V2 parameters ... will result in the pipeline having
//     the V2 type", model doc of PipelineDeclaration.pipelineType) and V1
//     otherwise, the type CreatePipeline gives a pipeline that names none.
//
// Artifact lists and everything else stay as given. Normalize is idempotent
// and does nothing when p is nil.
func Normalize(p *cpapi.PipelineDeclaration) {
	if p == nil {
		return
	}
	for i := range p.Stages {
		for j := range p.Stages[i].Actions {
			a := &p.Stages[i].Actions[j]
			if a.RunOrder == nil {
				one := int32(1)
				a.RunOrder = &one
			}
		}
	}
	if p.ExecutionMode == "" {
		p.ExecutionMode = cpapi.ExecutionModeSuperseded
	}
	if p.PipelineType == "" {
		p.PipelineType = effectiveType(p)
	}
}

// effectiveType returns the pipeline type of p: the declared one, or the one
// Normalize would infer.
func effectiveType(p *cpapi.PipelineDeclaration) string {
	if p.PipelineType != "" {
		return p.PipelineType
	}
	if firstV2Feature(p) != "" {
		return cpapi.PipelineTypeV2
	}
	return cpapi.PipelineTypeV1
}

// firstV2Feature describes the first member of p, in declaration order, that
// only V2 pipelines accept, or returns "" when there is none. The V2-only
// members are executionMode QUEUED or PARALLEL, variables, triggers, stage
// conditions (beforeEntry, onSuccess, onFailure) and the Commands action
// (reference/peers.md §1.2).
func firstV2Feature(p *cpapi.PipelineDeclaration) string {
	if p.ExecutionMode == cpapi.ExecutionModeQueued || p.ExecutionMode == cpapi.ExecutionModeParallel {
		return fmt.Sprintf("executionMode %s", p.ExecutionMode)
	}
	if len(p.Variables) > 0 {
		return "pipeline variables"
	}
	if len(p.Triggers) > 0 {
		return "triggers"
	}
	for i := range p.Stages {
		if f := stageV2Feature(&p.Stages[i]); f != "" {
			return f
		}
	}
	return ""
}

func stageV2Feature(s *cpapi.StageDeclaration) string {
	switch {
	case s.BeforeEntry != nil:
		return fmt.Sprintf("stage %q beforeEntry conditions", s.Name)
	case s.OnSuccess != nil:
		return fmt.Sprintf("stage %q onSuccess conditions", s.Name)
	case s.OnFailure != nil:
		return fmt.Sprintf("stage %q onFailure conditions", s.Name)
	}
	for j := range s.Actions {
		a := &s.Actions[j]
		if isCommandsType(a.ActionTypeId) {
			return fmt.Sprintf("stage %q action %q of type Compute/AWS/Commands", s.Name, a.Name)
		}
	}
	return ""
}

// isCommandsType reports whether id is the Commands action, the only type
// whose actions carry a "commands" member.
func isCommandsType(id *cpapi.ActionTypeId) bool {
	return id != nil && id.Category == cpapi.ActionCategoryCompute &&
		id.Owner == cpapi.ActionOwnerAws && id.Provider == providerCommands
}
