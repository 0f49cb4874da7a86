package pipeline

import (
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
)

// SecretMask replaces the value of a secret configuration property in every
// declaration the API returns ("masked in the JSON by a series of four
// asterisks", reference/codepipeline.md §2.4).
const SecretMask = "****"

// Mask returns a deep copy of p in which the value of every configuration
// key that the action's type declares secret is replaced by [SecretMask].
// Actions whose type cat (nil: the built-in types) does not know are copied
// unchanged. p is not modified; Mask(nil, cat) is nil.
func Mask(p *cpapi.PipelineDeclaration, cat *Catalog) *cpapi.PipelineDeclaration {
	if p == nil {
		return nil
	}
	out := deepCopy(p)
	cat = cat.orBuiltin()
	forEachAction(out, func(_ *cpapi.StageDeclaration, a *cpapi.ActionDeclaration) {
		t := cat.find(a.ActionTypeId)
		if t == nil {
			return
		}
		for k := range a.Configuration {
			if isSecret(t, k) {
				a.Configuration[k] = SecretMask
			}
		}
	})
	return out
}

// KeepSecrets restores, in newDecl, each secret configuration value given as
// [SecretMask] from the stored declaration old, as UpdatePipeline does: the
// stored value is kept when the stage and the action keep their names and
// the action keeps its type (reference/codepipeline.md §2.4, §9.2). A masked
// secret of a renamed, moved or new action, or of an action whose type
// changed, cannot be restored: the stored value is lost, so KeepSecrets
// returns an InvalidActionDeclarationException asking for the value again
// rather than storing "****". With old nil (CreatePipeline) no secret can be
// restored. Secret values other than [SecretMask], and "****" in keys that
// are not secret, are left as given.
func KeepSecrets(newDecl, old *cpapi.PipelineDeclaration, cat *Catalog) error {
	if newDecl == nil {
		return nil
	}
	cat = cat.orBuiltin()
	var err *awsproto.Error
	forEachAction(newDecl, func(s *cpapi.StageDeclaration, a *cpapi.ActionDeclaration) {
		if err == nil {
			err = restoreAction(s, a, findAction(old, s.Name, a.Name), cat)
		}
	})
	if err != nil {
		return err
	}
	return nil
}

// restoreAction restores the masked secrets of a from prev, its stored
// declaration (nil when there is none).
func restoreAction(s *cpapi.StageDeclaration, a, prev *cpapi.ActionDeclaration, cat *Catalog) *awsproto.Error {
	t := cat.find(a.ActionTypeId)
	if t == nil {
		return nil
	}
	for _, k := range sortedKeys(a.Configuration) {
		if a.Configuration[k] != SecretMask || !isSecret(t, k) {
			continue
		}
		stored, ok := storedSecret(a, prev, k)
		if !ok {
			return actionErr(cpapi.InvalidActionDeclarationException, s, a, "has the secret configuration %q "+
				"masked as %q, but no stored value can be kept: secrets are kept only while the stage and the action "+
				"keep their names and the action its type; supply the secret value again", k, SecretMask)
		}
		a.Configuration[k] = stored
	}
	return nil
}

// storedSecret returns the stored value of key k for a, if prev is the same
// action (same type) and holds a value.
func storedSecret(a, prev *cpapi.ActionDeclaration, k string) (string, bool) {
	if prev == nil || prev.ActionTypeId == nil || *prev.ActionTypeId != *a.ActionTypeId {
		return "", false
	}
	v, ok := prev.Configuration[k]
	if !ok || v == "" || v == SecretMask {
		return "", false
	}
	return v, true
}

// findAction returns the action named action in the stage named stage of
// p, or nil.
func findAction(p *cpapi.PipelineDeclaration, stage, action string) *cpapi.ActionDeclaration {
	if p == nil {
		return nil
	}
	for i := range p.Stages {
		if p.Stages[i].Name != stage {
			continue
		}
		for j := range p.Stages[i].Actions {
			if a := &p.Stages[i].Actions[j]; a.Name == action {
				return a
			}
		}
	}
	return nil
}

// forEachAction calls f for every action of p, in declaration order.
func forEachAction(p *cpapi.PipelineDeclaration, f func(*cpapi.StageDeclaration, *cpapi.ActionDeclaration)) {
	for i := range p.Stages {
		s := &p.Stages[i]
		for j := range s.Actions {
			f(s, &s.Actions[j])
		}
	}
}
