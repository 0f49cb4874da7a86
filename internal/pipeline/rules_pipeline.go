package pipeline

import (
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
)

// checkArtifactStores: exactly one of artifactStore and artifactStores, and
// artifactStores covers the server's region ("You must include either
// artifactStore or artifactStores in your pipeline, but you cannot use both",
// "There must be an artifact store for the pipeline Region", model docs of
// PipelineDeclaration).
func (v *validator) checkArtifactStores() *awsproto.Error {
	p := v.p
	hasOne, hasMany := p.ArtifactStore != nil, len(p.ArtifactStores) > 0
	switch {
	case hasOne && hasMany:
		return structureErr("pipeline %q sets both artifactStore and artifactStores; use artifactStore, "+
			"or artifactStores (one store per region) when actions run in other regions, but not both", p.Name)
	case !hasOne && !hasMany:
		return structureErr("pipeline %q has no artifact store; set artifactStore to the S3 bucket that "+
			"stores the pipeline's artifacts, or artifactStores for cross-region actions", p.Name)
	}
	if _, ok := p.ArtifactStores[v.lim.Region]; hasMany && v.lim.Region != "" && !ok {
		return structureErr("pipeline %q: artifactStores has no entry for the pipeline's region %q; "+
			"add an artifact store for %q", p.Name, v.lim.Region, v.lim.Region)
	}
	return nil
}

// checkStageCount: at least MinStages, at most lim.MaxStages stages.
func (v *validator) checkStageCount() *awsproto.Error {
	n := len(v.p.Stages)
	if n < MinStages {
		return structureErr("pipeline %q has %s; a pipeline must contain at least %d stages: "+
			"a first stage with source actions and at least one more stage", v.p.Name, plural(n, "stage"), MinStages)
	}
	if n > v.lim.MaxStages {
		return structureErr("pipeline %q has %d stages; at most %d stages are allowed, "+
			"merge or remove stages", v.p.Name, n, v.lim.MaxStages)
	}
	return nil
}

// checkPipelineType: a pipeline declared V1 uses no V2-only member. A
// pipeline without a pipelineType is V2 when it uses one (see Normalize).
func (v *validator) checkPipelineType() *awsproto.Error {
	if v.p.PipelineType != cpapi.PipelineTypeV1 {
		return nil
	}
	if f := firstV2Feature(v.p); f != "" {
		return awsproto.Errorf(cpapi.ValidationException, "pipeline %q has pipelineType V1 but uses %s, "+
			"which only V2 pipelines support; set \"pipelineType\": \"V2\" or remove it", v.p.Name, f)
	}
	return nil
}

// checkVariables: pipeline variable names are unique.
func (v *validator) checkVariables() *awsproto.Error {
	seen := make(map[string]bool, len(v.p.Variables))
	for _, d := range v.p.Variables {
		if seen[d.Name] {
			return awsproto.Errorf(cpapi.ValidationException, "pipeline %q declares the pipeline variable %q "+
				"more than once in variables; give each variable a unique name", v.p.Name, d.Name)
		}
		seen[d.Name] = true
	}
	return nil
}

// checkTriggerCount: at most lim.MaxTriggers triggers.
func (v *validator) checkTriggerCount() *awsproto.Error {
	if n := len(v.p.Triggers); n > v.lim.MaxTriggers {
		return awsproto.Errorf(cpapi.ValidationException, "pipeline %q has %d triggers; the maximum is %d, remove some",
			v.p.Name, n, v.lim.MaxTriggers)
	}
	return nil
}

// checkTriggers: each trigger names a CodeStarSourceConnection source
// action, and no source action has two triggers ("This is only supported for
// the CodeStarSourceConnection action type", "You can only specify one
// trigger configuration per source action", model docs).
func (v *validator) checkTriggers() *awsproto.Error {
	used := make(map[string]int)
	for i, t := range v.p.Triggers {
		if t.GitConfiguration == nil {
			continue
		}
		name := t.GitConfiguration.SourceActionName
		if err := v.checkTriggerSource(i, name); err != nil {
			return err
		}
		if first, dup := used[name]; dup {
			return structureErr("triggers[%d] and triggers[%d] both name the source action %q; "+
				"a source action can have only one trigger configuration, merge their filters", first, i, name)
		}
		used[name] = i
	}
	return nil
}

func (v *validator) checkTriggerSource(i int, name string) *awsproto.Error {
	a := v.actionNamed(name)
	switch {
	case a == nil:
		return structureErr("triggers[%d].gitConfiguration.sourceActionName %q names no action of the pipeline; "+
			"set it to the name of a CodeStarSourceConnection source action", i, name)
	case !isSourceAction(a):
		return structureErr("triggers[%d].gitConfiguration.sourceActionName %q names a %s action, not a source action; "+
			"set it to the name of a CodeStarSourceConnection source action", i, name, a.ActionTypeId.Category)
	case a.ActionTypeId.Owner != cpapi.ActionOwnerAws || (a.ActionTypeId.Provider != providerCodeStar && a.ActionTypeId.Provider != "CodeCommit"):
		// CodeCommit is a Slipway addition: its repositories are hosted
		// by Slipway, which sees every push.
		return structureErr("triggers[%d].gitConfiguration.sourceActionName %q names a source action with provider %q; "+
			"triggers only work with CodeStarSourceConnection (and Slipway-hosted CodeCommit) source actions", i, name, a.ActionTypeId.Provider)
	}
	return nil
}

// actionNamed returns the first action named name, preferring the first
// stage (where the source actions are), or nil.
func (v *validator) actionNamed(name string) *cpapi.ActionDeclaration {
	for i := range v.p.Stages {
		for j := range v.p.Stages[i].Actions {
			if a := &v.p.Stages[i].Actions[j]; a.Name == name {
				return a
			}
		}
	}
	return nil
}

func isSourceAction(a *cpapi.ActionDeclaration) bool {
	return a.ActionTypeId != nil && a.ActionTypeId.Category == cpapi.ActionCategorySource
}
