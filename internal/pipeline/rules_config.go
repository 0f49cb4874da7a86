package pipeline

import (
	"slices"
	"strconv"
	"strings"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
)

// checkConfiguration: the configuration has every required key of the type,
// no key the type does not define, values of the declared property types,
// and meets the provider's own rules.
func checkConfiguration(c *actionCtx) *awsproto.Error {
	for _, check := range []func(*actionCtx) *awsproto.Error{
		checkRequiredKeys, checkUnknownKeys, checkValueTypes, checkProviderRule,
	} {
		if err := check(c); err != nil {
			return err
		}
	}
	return nil
}

func checkRequiredKeys(c *actionCtx) *awsproto.Error {
	for _, p := range c.typ.ActionConfigurationProperties {
		if isTrue(p.Required) && c.a.Configuration[p.Name] == "" {
			return c.err("is missing the required configuration key %q of action type %s; add it to \"configuration\"",
				p.Name, typeName(c.typ.Id))
		}
	}
	return nil
}

func checkUnknownKeys(c *actionCtx) *awsproto.Error {
	for _, k := range sortedKeys(c.a.Configuration) {
		if property(c.typ, k) != nil || isImplicitKey(c.typ, k) {
			continue
		}
		return c.err("has the configuration key %q, which action type %s does not define; remove it (%s)",
			k, typeName(c.typ.Id), validKeys(c.typ))
	}
	return nil
}

// isImplicitKey reports whether k is valid for t without being declared:
// JobList, which CreateCustomActionType adds to every custom action type
// (reference/codepipeline.md §5.2).
func isImplicitKey(t *cpapi.ActionType, k string) bool {
	return k == implicitJobListKey && t.Id.Owner == cpapi.ActionOwnerCustom
}

func validKeys(t *cpapi.ActionType) string {
	if len(t.ActionConfigurationProperties) == 0 {
		return "this action type takes no configuration"
	}
	names := make([]string, len(t.ActionConfigurationProperties))
	for i, p := range t.ActionConfigurationProperties {
		names[i] = p.Name
	}
	return "valid keys: " + strings.Join(names, ", ")
}

// checkValueTypes: Boolean and Number properties hold such values, and a
// queryable property of a custom type holds at most 20 characters of
// letters, digits, "_" and "-" (model doc of
// ActionConfigurationProperty.queryable). Values holding a variable
// reference are resolved at run time and not checked. Values are not echoed:
// they may be secret.
func checkValueTypes(c *actionCtx) *awsproto.Error {
	for _, k := range sortedKeys(c.a.Configuration) {
		p, val := property(c.typ, k), c.a.Configuration[k]
		if p == nil {
			continue
		}
		if isTrue(p.Queryable) && !isQueryableValue(val) {
			return c.err("has configuration %q, a queryable property, whose value is not 1 to %d letters, digits, "+
				"\"_\" or \"-\"; shorten or change the value", k, maxQueryableValueChars)
		}
		if strings.Contains(val, "#{") {
			continue
		}
		if msg := typeProblem(p.Type, val); msg != "" {
			return c.err("has configuration %q, which %s", k, msg)
		}
	}
	return nil
}

func isQueryableValue(val string) bool {
	return len(val) <= maxQueryableValueChars && isWord(val, "_-")
}

// isWord reports whether s is non-empty and made of ASCII letters, digits
// and the characters of extra.
func isWord(s, extra string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(extra, r)
		if !ok {
			return false
		}
	}
	return true
}

func typeProblem(typ, val string) string {
	switch typ {
	case typeBoolean:
		if !strings.EqualFold(val, "true") && !strings.EqualFold(val, "false") {
			return "must be a Boolean; use true or false"
		}
	case typeNumber:
		if _, err := strconv.ParseFloat(val, 64); err != nil {
			return "must be a Number"
		}
	}
	return ""
}

// checkProviderRule applies rules of single providers that a property list
// cannot express.
func checkProviderRule(c *actionCtx) *awsproto.Error {
	id := c.typ.Id
	if id.Owner != cpapi.ActionOwnerAws {
		return nil
	}
	switch {
	case id.Category == cpapi.ActionCategoryDeploy && id.Provider == providerS3:
		return checkS3Deploy(c)
	case id.Provider == providerCodeBuild:
		return checkCodeBuildPrimarySource(c)
	}
	return nil
}

// checkS3Deploy: ObjectKey is required when Extract is false (S3 deploy
// action reference).
func checkS3Deploy(c *actionCtx) *awsproto.Error {
	cfg := c.a.Configuration
	if strings.EqualFold(cfg["Extract"], "false") && cfg["ObjectKey"] == "" {
		return c.err("has \"Extract\": \"false\" but no \"ObjectKey\"; set ObjectKey to the key of the " +
			"uploaded object, or set Extract to true")
	}
	return nil
}

// checkCodeBuildPrimarySource: a CodeBuild action with several input
// artifacts names one of them as PrimarySource ("For a CodeBuild action with
// multiple input artifacts, one of your input sources must be designated the
// PrimarySource", CloudFormation ActionDeclaration reference).
func checkCodeBuildPrimarySource(c *actionCtx) *awsproto.Error {
	primary := c.a.Configuration["PrimarySource"]
	inputs := make([]string, len(c.a.InputArtifacts))
	for i, in := range c.a.InputArtifacts {
		inputs[i] = in.Name
	}
	switch {
	case primary == "" && len(inputs) > 1:
		return c.err("has %d input artifacts but no PrimarySource configuration; set PrimarySource to the "+
			"input artifact CodeBuild uses as the primary source", len(inputs))
	case primary != "" && !strings.Contains(primary, "#{") && !slices.Contains(inputs, primary):
		return c.err("has PrimarySource %q, which is not one of its input artifacts (%s); set it to one of them",
			primary, quoteList(inputs))
	}
	return nil
}

// Reserved namespaces of variable references.
const (
	namespaceCodePipeline = "codepipeline"
	namespaceVariables    = "variables"
	executionIDVariable   = "PipelineExecutionId"
)

// checkReferences: each #{namespace.variable} reference in the configuration
// names #{codepipeline.PipelineExecutionId}, a declared pipeline variable
// (#{variables.NAME}), or the namespace of an action that runs earlier
// (reference/peers.md §1.2, action output variables and namespaces).
func (v *validator) checkReferences(c *actionCtx) *awsproto.Error {
	for _, k := range sortedKeys(c.a.Configuration) {
		for _, ref := range references(c.a.Configuration[k]) {
			if err := v.checkReference(c, k, ref); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v *validator) checkReference(c *actionCtx, k, ref string) *awsproto.Error {
	ns, name, ok := strings.Cut(ref, ".")
	if !ok || name == "" || !isWord(ns, "@-_") || strings.ContainsAny(name, " \t\r\n") {
		return c.err("has configuration %q with the malformed variable reference \"#{%s}\"; "+
			"write #{namespace.variable}", k, ref)
	}
	switch ns {
	case namespaceCodePipeline:
		if name != executionIDVariable {
			return c.err("has configuration %q referring to #{%s}; the only codepipeline variable is "+
				"#{codepipeline.%s}", k, ref, executionIDVariable)
		}
		return nil
	case namespaceVariables:
		if !v.variables[name] {
			return c.err("has configuration %q referring to the pipeline variable %q, which is not declared; "+
				"add it to the pipeline's \"variables\"", k, name)
		}
		return nil
	}
	return v.checkNamespaceReference(c, k, ns)
}

func (v *validator) checkNamespaceReference(c *actionCtx, k, ns string) *awsproto.Error {
	prod, ok := v.namespaces[ns]
	switch {
	case !ok:
		return c.err("has configuration %q referring to namespace %q, which no action declares; set "+
			"\"namespace\" on the action that produces the variable", k, ns)
	case prod.same(c.ref):
		return c.err("has configuration %q referring to its own namespace %q; variables are only available "+
			"from actions that run before it", k, ns)
	case !prod.runsBefore(c.ref):
		return c.err("has configuration %q referring to namespace %q of action %q in stage %q, which does not "+
			"run before it; variables are only available from actions that run before it",
			k, ns, prod.action, prod.stageName)
	}
	return nil
}

// references returns the text inside each #{...} of s, in order. An
// unterminated "#{" is plain text.
func references(s string) []string {
	var out []string
	for {
		start := strings.Index(s, "#{")
		if start < 0 {
			return out
		}
		end := strings.IndexByte(s[start+2:], '}')
		if end < 0 {
			return out
		}
		out = append(out, s[start+2:start+2+end])
		s = s[start+2+end+1:]
	}
}

// sortedKeys returns the keys of m in ascending order, so that messages do
// not depend on map iteration order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
