package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
)

// actionCtx is the action under validation.
type actionCtx struct {
	s   *cpapi.StageDeclaration
	a   *cpapi.ActionDeclaration
	ref actionRef
	typ *cpapi.ActionType // the resolved action type, once known
}

// err returns an InvalidActionDeclarationException about the action.
func (c *actionCtx) err(format string, args ...any) *awsproto.Error {
	return actionErr(cpapi.InvalidActionDeclarationException, c.s, c.a, format, args...)
}

// structureErr returns an InvalidStructureException about the action.
func (c *actionCtx) structureErr(format string, args ...any) *awsproto.Error {
	return actionErr(cpapi.InvalidStructureException, c.s, c.a, format, args...)
}

// checkActions applies the rules about each action, stage by stage and in
// declaration order.
func (v *validator) checkActions() *awsproto.Error {
	for i := range v.p.Stages {
		s := &v.p.Stages[i]
		seen := make(map[string]bool, len(s.Actions))
		for j := range s.Actions {
			c := &actionCtx{s: s, a: &s.Actions[j], ref: refOf(v.p, i, j)}
			if seen[c.a.Name] {
				return c.err("is declared more than once in the stage; action names must be unique within a stage, " +
					"rename one of them")
			}
			seen[c.a.Name] = true
			if err := v.checkAction(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v *validator) checkAction(c *actionCtx) *awsproto.Error {
	typ, err := v.resolveType(c)
	if err != nil {
		return err
	}
	c.typ = typ
	for _, check := range []func(*actionCtx) *awsproto.Error{
		checkCommands,
		checkArtifactCounts,
		checkConfiguration,
		v.checkRegion,
		v.checkNamespace,
		v.checkOutputs,
		v.checkInputs,
		v.checkReferences,
	} {
		if err := check(c); err != nil {
			return err
		}
	}
	return nil
}

// resolveType finds the action's type in the catalogue.
func (v *validator) resolveType(c *actionCtx) (*cpapi.ActionType, *awsproto.Error) {
	id := c.a.ActionTypeId
	if !slices.Contains(cpapi.ActionOwnerValues, id.Owner) {
		return nil, c.err("has owner %q; the owner must be AWS, ThirdParty or Custom", id.Owner)
	}
	if !slices.Contains(cpapi.ActionCategoryValues, id.Category) {
		return nil, c.err("has category %q; the category must be one of %s", id.Category,
			strings.Join(cpapi.ActionCategoryValues, ", "))
	}
	if t := v.cat.find(id); t != nil {
		return t, nil
	}
	if versions := v.cat.versions(id); len(versions) > 0 {
		return nil, c.err("uses action type %s, which does not exist; available versions of %s/%s/%s: %s",
			typeName(id), id.Category, id.Owner, id.Provider, quoteList(versions))
	}
	if id.Owner == cpapi.ActionOwnerCustom {
		return nil, c.err("uses the custom action type %s, which is not registered; create it with "+
			"CreateCustomActionType, or fix the category, provider and version", typeName(id))
	}
	return nil, c.err("uses action type %s, which does not exist; %s", typeName(id), v.providerHint(id))
}

func (v *validator) providerHint(id *cpapi.ActionTypeId) string {
	providers := v.cat.providers(id.Category, id.Owner)
	if len(providers) == 0 {
		return fmt.Sprintf("there are no %s action types with owner %s", id.Category, id.Owner)
	}
	return fmt.Sprintf("providers of %s actions with owner %s: %s", id.Category, id.Owner, strings.Join(providers, ", "))
}

// checkCommands: a Commands action has commands, other actions have none.
func checkCommands(c *actionCtx) *awsproto.Error {
	isCommands := isCommandsType(c.a.ActionTypeId)
	if isCommands && len(c.a.Commands) == 0 {
		return c.err("is a Commands action but has no commands; list the shell commands to run in \"commands\"")
	}
	if !isCommands && len(c.a.Commands) > 0 {
		return c.err("has \"commands\", which only Compute/AWS/Commands actions accept; remove \"commands\" " +
			"or change the action type")
	}
	return nil
}

// checkArtifactCounts: the numbers of input and output artifacts are within
// the type's bounds (reference/codepipeline.md §2.5).
func checkArtifactCounts(c *actionCtx) *awsproto.Error {
	if err := checkCount(c, "input", "inputArtifacts", len(c.a.InputArtifacts), c.typ.InputArtifactDetails); err != nil {
		return err
	}
	return checkCount(c, "output", "outputArtifacts", len(c.a.OutputArtifacts), c.typ.OutputArtifactDetails)
}

func checkCount(c *actionCtx, kind, member string, n int, d *cpapi.ArtifactDetails) *awsproto.Error {
	lo, hi := bounds(d)
	if n >= lo && n <= hi {
		return nil
	}
	return c.err("has %s, but action type %s accepts %s; fix %q",
		plural(n, kind+" artifact"), typeName(c.typ.Id), countRange(lo, hi), member)
}

// bounds returns the artifact count bounds of d; a custom type without them
// gets 0..5 (reference/codepipeline.md §2.5).
func bounds(d *cpapi.ArtifactDetails) (lo, hi int) {
	lo, hi = 0, 5
	if d != nil && d.MinimumCount != nil {
		lo = int(*d.MinimumCount)
	}
	if d != nil && d.MaximumCount != nil {
		hi = int(*d.MaximumCount)
	}
	return lo, hi
}

func countRange(lo, hi int) string {
	switch {
	case hi == 0:
		return "none"
	case lo == hi:
		return fmt.Sprintf("exactly %d", lo)
	case lo == 0:
		return fmt.Sprintf("at most %d", hi)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

// checkRegion: an action's region has an artifact store ("If you create a
// cross-region action in your pipeline, you must use artifactStores").
func (v *validator) checkRegion(c *actionCtx) *awsproto.Error {
	region := c.a.Region
	if region == "" {
		return nil
	}
	if len(v.p.ArtifactStores) > 0 {
		if _, ok := v.p.ArtifactStores[region]; !ok {
			return c.structureErr("runs in region %q, but artifactStores has no entry for that region; "+
				"add an artifact store for %q", region, region)
		}
		return nil
	}
	if v.lim.Region != "" && region != v.lim.Region {
		return c.structureErr("runs in region %q, outside the pipeline's region %q; a cross-region action needs "+
			"artifactStores with a store for each region instead of artifactStore", region, v.lim.Region)
	}
	return nil
}

// isReservedNamespace reports whether ns is reserved for the pipeline's own
// variables (#{codepipeline.PipelineExecutionId}, #{variables.NAME}) and so
// cannot be an action namespace.
func isReservedNamespace(ns string) bool {
	return ns == namespaceCodePipeline || ns == namespaceVariables
}

// checkNamespace: the namespace is not reserved and unique in the pipeline.
func (v *validator) checkNamespace(c *actionCtx) *awsproto.Error {
	ns := c.a.Namespace
	if ns == "" {
		return nil
	}
	if isReservedNamespace(ns) {
		return c.err("has the reserved namespace %q; choose another namespace", ns)
	}
	if first := v.namespaces[ns]; !first.same(c.ref) {
		return c.err("has namespace %q, which action %q in stage %q already uses; namespaces must be unique "+
			"within a pipeline", ns, first.action, first.stageName)
	}
	return nil
}

// checkOutputs: output artifact names are unique within the pipeline.
func (v *validator) checkOutputs(c *actionCtx) *awsproto.Error {
	seen := make(map[string]bool, len(c.a.OutputArtifacts))
	for _, o := range c.a.OutputArtifacts {
		if seen[o.Name] {
			return c.structureErr("lists output artifact %q twice; output artifact names must be unique "+
				"within a pipeline", o.Name)
		}
		seen[o.Name] = true
		if first := v.producers[o.Name]; !first.same(c.ref) {
			return c.structureErr("has output artifact %q, which action %q in stage %q already produces; "+
				"output artifact names must be unique within a pipeline, rename one of them",
				o.Name, first.action, first.stageName)
		}
	}
	return nil
}

// checkInputs: each input artifact is the output of an action that runs
// earlier: in an earlier stage, or in the same stage with a lower runOrder.
func (v *validator) checkInputs(c *actionCtx) *awsproto.Error {
	for _, in := range c.a.InputArtifacts {
		if err := v.checkInput(c, in.Name); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) checkInput(c *actionCtx, name string) *awsproto.Error {
	prod, ok := v.producers[name]
	switch {
	case !ok:
		return c.structureErr("input artifact %q is not produced by any earlier action; list it in the "+
			"outputArtifacts of an action that runs before it", name)
	case prod.runsBefore(c.ref):
		return nil
	case prod.same(c.ref):
		return c.structureErr("input artifact %q is its own output artifact; take the input from an action "+
			"that runs before it", name)
	case prod.stage == c.ref.stage && prod.order == c.ref.order:
		return c.structureErr("input artifact %q is produced by action %q, which runs in parallel with it "+
			"(both have runOrder %d); give action %q a higher runOrder than %q",
			name, prod.action, prod.order, c.a.Name, prod.action)
	}
	return c.structureErr("input artifact %q is produced by action %q in stage %q, which runs after it; "+
		"an input artifact must come from an action that runs before it", name, prod.action, prod.stageName)
}
