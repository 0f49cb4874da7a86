package pipeline

import (
	"fmt"
	"strings"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
)

// Validate checks the structure rules of a pipeline declaration that the
// model's per-member validation cannot express, against the action types of
// cat (nil means the built-in types only) and the limits lim (zero fields
// mean the defaults). It returns nil or an *awsproto.Error carrying the
// exception CreatePipeline and UpdatePipeline raise for the first violation
// found; the package documentation lists the rules, their order and their
// exceptions. The message names the offending stage, action or member and
// says how to fix it.
//
// Validate does not modify p. It accepts a declaration before or after
// [Normalize]: a missing runOrder counts as 1 and a missing pipelineType as
// the type Normalize would infer.
func Validate(p *cpapi.PipelineDeclaration, cat *Catalog, lim Limits) error {
	if p == nil {
		return awsproto.Errorf(cpapi.ValidationException, "pipeline is required")
	}
	v := newValidator(p, cat.orBuiltin(), lim.withDefaults())
	if err := v.run(); err != nil {
		return err
	}
	return nil
}

// validator holds a declaration under validation and indexes built from it.
type validator struct {
	p   *cpapi.PipelineDeclaration
	cat *Catalog
	lim Limits
	// producers maps an output artifact name to the first action, in
	// declaration order, that lists it.
	producers map[string]actionRef
	// namespaces maps a namespace to the first action that declares it.
	namespaces map[string]actionRef
	// variables holds the declared pipeline variable names.
	variables map[string]bool
}

// actionRef locates an action: its stage and position in the declaration
// and the runOrder it runs at.
type actionRef struct {
	stage, index      int
	order             int32
	stageName, action string
}

// runsBefore reports whether the action r has finished before o starts: it
// is in an earlier stage, or in the same stage with a lower runOrder.
func (r actionRef) runsBefore(o actionRef) bool {
	return r.stage < o.stage || (r.stage == o.stage && r.order < o.order)
}

// same reports whether r and o are the same action.
func (r actionRef) same(o actionRef) bool {
	return r.stage == o.stage && r.index == o.index
}

func newValidator(p *cpapi.PipelineDeclaration, cat *Catalog, lim Limits) *validator {
	v := &validator{
		p:          p,
		cat:        cat,
		lim:        lim,
		producers:  make(map[string]actionRef),
		namespaces: make(map[string]actionRef),
		variables:  make(map[string]bool),
	}
	for _, d := range p.Variables {
		v.variables[d.Name] = true
	}
	for i := range p.Stages {
		for j := range p.Stages[i].Actions {
			v.index(refOf(p, i, j), &p.Stages[i].Actions[j])
		}
	}
	return v
}

func (v *validator) index(r actionRef, a *cpapi.ActionDeclaration) {
	for _, o := range a.OutputArtifacts {
		if _, ok := v.producers[o.Name]; !ok {
			v.producers[o.Name] = r
		}
	}
	if _, ok := v.namespaces[a.Namespace]; a.Namespace != "" && !ok {
		v.namespaces[a.Namespace] = r
	}
}

func refOf(p *cpapi.PipelineDeclaration, stage, index int) actionRef {
	s := &p.Stages[stage]
	a := &s.Actions[index]
	return actionRef{stage: stage, index: index, order: runOrder(a), stageName: s.Name, action: a.Name}
}

// runOrder returns the runOrder of a, 1 when it has none.
func runOrder(a *cpapi.ActionDeclaration) int32 {
	if a.RunOrder == nil {
		return 1
	}
	return *a.RunOrder
}

// run applies the checks in the documented order.
func (v *validator) run() *awsproto.Error {
	checks := []func() *awsproto.Error{
		v.checkArtifactStores,
		v.checkStageCount,
		v.checkPipelineType,
		v.checkVariables,
		v.checkTriggerCount,
		v.checkStages,
		v.checkPlacement,
		v.checkActions,
		v.checkTriggers,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// structureErr returns an InvalidStructureException.
func structureErr(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf(cpapi.InvalidStructureException, format, args...)
}

// stageErr returns an error of code whose message starts with the stage.
func stageErr(code string, s *cpapi.StageDeclaration, format string, args ...any) *awsproto.Error {
	return awsproto.Errorf(code, "stage %q: %s", s.Name, fmt.Sprintf(format, args...))
}

// actionErr returns an error of code whose message starts with the stage
// and the action.
func actionErr(code string, s *cpapi.StageDeclaration, a *cpapi.ActionDeclaration, format string, args ...any) *awsproto.Error {
	return awsproto.Errorf(code, "stage %q: action %q %s", s.Name, a.Name, fmt.Sprintf(format, args...))
}

// typeName formats an action type id for messages.
func typeName(id *cpapi.ActionTypeId) string {
	return fmt.Sprintf("%s/%s/%s version %q", id.Category, id.Owner, id.Provider, id.Version)
}

// quoteList formats names as a comma-separated list of quoted strings.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// plural returns "1 action" or "2 actions".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
