package buildspec

import (
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// spec parses the root mapping.
func (p *parser) spec(root *yaml.Node) (*Spec, error) {
	entries, err := p.mapping(root, "the buildspec")
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, emptyFileError()
	}
	if err := p.version(root, entries); err != nil {
		return nil, err
	}
	s := &Spec{Version: Version}
	var phases *entry
	for i, e := range entries {
		if e.key == "phases" {
			phases = &entries[i]
		}
		if err := p.topLevel(e, s); err != nil {
			return nil, err
		}
	}
	if phases == nil {
		return nil, errAt(root, "phases is required; add a phases section with at least a build phase")
	}
	if err := checkEnv(&s.Env, p.exportedLines); err != nil {
		return nil, err
	}
	s.Notes = p.notes
	return s, nil
}

// version checks the version key first, so that a 0.1 file gets the
// version message rather than errors about its 0.1-only keys.
func (p *parser) version(root *yaml.Node, entries []entry) error {
	for _, e := range entries {
		if e.key != "version" {
			continue
		}
		v, err := p.scalar(e.val, "version")
		if err != nil {
			return err
		}
		switch v {
		case Version:
			return nil
		case "0.1":
			return errAt(e.val, "version 0.1 is not supported; use 'version: 0.2' (0.1 ran every command in its own shell, so cd and variables did not carry over; 0.2 runs them in one shell session and renames environment_variables/plaintext to env/variables)")
		}
		return errAt(e.val, "version is %q; Slipway runs buildspec version 0.2, so write 'version: 0.2'", v)
	}
	return errAt(root, "version is required; add 'version: 0.2' as the first line")
}

// topLevel parses one key of the root mapping.
func (p *parser) topLevel(e entry, s *Spec) error {
	var err error
	switch e.key {
	case "version":
	case "run-as":
		s.RunAs, err = p.scalar(e.val, "run-as")
		p.note(e, "run-as is ignored: Slipway runs every command as its own build user")
	case "env":
		err = p.env(e, &s.Env)
	case "proxy":
		err = p.proxy(e)
	case "batch":
		err = errAt(e.keyNode, "batch builds are not supported by Slipway; remove the batch section and use one pipeline action per build")
	case "phases":
		s.Phases, err = p.phases(e)
	case "reports":
		s.Reports, err = p.reports(e)
	case "artifacts":
		s.Artifacts, err = p.artifacts(e)
	case "cache":
		err = p.cache(e)
	case "environment_variables":
		err = errAt(e.keyNode, "environment_variables is the version 0.1 name; in version 0.2 it is env (with variables instead of plaintext)")
	default:
		err = unknownKey(e, "the buildspec", "version", "run-as", "env", "proxy", "batch", "phases", "reports", "artifacts", "cache")
	}
	return err
}

// proxy accepts the proxy section, which only matters behind CodeBuild's
// explicit proxy server.
func (p *parser) proxy(e entry) error {
	entries, err := p.mapping(e.val, "proxy")
	if err != nil {
		return err
	}
	for _, pe := range entries {
		switch pe.key {
		case "upload-artifacts", "logs":
			if _, err := p.boolean(pe.val, "proxy."+pe.key); err != nil {
				return err
			}
		default:
			return unknownKey(pe, "proxy", "upload-artifacts", "logs")
		}
	}
	p.note(e, "proxy is ignored: it only applies to CodeBuild's explicit proxy server")
	return nil
}

// cache accepts the cache section; Slipway starts every build from a fresh
// directory and keeps no cache.
func (p *parser) cache(e entry) error {
	entries, err := p.mapping(e.val, "cache")
	if err != nil {
		return err
	}
	for _, ce := range entries {
		switch ce.key {
		case "paths", "fallback-keys":
			_, err = p.list(ce.val, "cache."+ce.key, "path")
		case "key", "action":
			_, err = p.scalar(ce.val, "cache."+ce.key)
		default:
			err = unknownKey(ce, "cache", "paths", "key", "fallback-keys", "action")
		}
		if err != nil {
			return err
		}
	}
	p.note(e, "cache is ignored: Slipway runs every build in a fresh directory and keeps no build cache")
	return nil
}

// phases parses the phases section and returns the phases in run order.
func (p *parser) phases(e entry) ([]*Phase, error) {
	entries, err := p.mapping(e.val, "phases")
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errAt(e.keyNode, "phases is empty; add at least one of install, pre_build, build, post_build")
	}
	byName := map[PhaseName]*Phase{}
	for _, pe := range entries {
		name := PhaseName(pe.key)
		switch name {
		case PhaseInstall, PhasePreBuild, PhaseBuild, PhasePostBuild:
		default:
			return nil, unknownKey(pe, "phases", "install", "pre_build", "build", "post_build")
		}
		ph, err := p.phase(name, pe)
		if err != nil {
			return nil, err
		}
		byName[name] = ph
	}
	var out []*Phase
	for _, name := range PhaseOrder() {
		if ph := byName[name]; ph != nil {
			out = append(out, ph)
		}
	}
	return out, nil
}

// phase parses one phase.
func (p *parser) phase(name PhaseName, e entry) (*Phase, error) {
	field := "phases." + string(name)
	entries, err := p.mapping(e.val, field)
	if err != nil {
		return nil, err
	}
	ph := &Phase{Name: name, Line: e.keyNode.Line}
	for _, pe := range entries {
		if err := p.phaseKey(ph, pe, field); err != nil {
			return nil, err
		}
	}
	if len(ph.Commands) > 0 {
		return ph, nil
	}
	if name == PhaseInstall && len(ph.RuntimeVersions) > 0 && len(ph.Finally) == 0 {
		return ph, nil
	}
	return nil, errAt(e.keyNode, "%s has no commands; add a commands list or remove the phase", field)
}

// phaseKey parses one key of a phase.
func (p *parser) phaseKey(ph *Phase, e entry, field string) error {
	var err error
	switch e.key {
	case "run-as":
		ph.RunAs, err = p.scalar(e.val, field+".run-as")
		p.note(e, fmt.Sprintf("%s.run-as is ignored: Slipway runs every command as its own build user", field))
	case "on-failure":
		ph.OnFailure, err = p.onFailure(e.val, field+".on-failure")
	case "runtime-versions":
		if ph.Name != PhaseInstall {
			return errAt(e.keyNode, "%s.runtime-versions is only allowed in the install phase", field)
		}
		ph.RuntimeVersions, err = p.vars(e.val, field+".runtime-versions", false)
		if err == nil && len(ph.RuntimeVersions) == 0 {
			err = errAt(e.keyNode, "%s.runtime-versions is empty; name at least one runtime or remove the key", field)
		}
		p.note(e, "runtime-versions is ignored: Slipway runs commands with the tools installed on the build host")
	case "commands":
		ph.Commands, err = p.commands(e.val, field+".commands")
	case "finally":
		ph.Finally, err = p.commands(e.val, field+".finally")
	default:
		allowed := []string{"run-as", "on-failure", "commands", "finally"}
		if ph.Name == PhaseInstall {
			allowed = append(allowed, "runtime-versions")
		}
		err = unknownKey(e, field, allowed...)
	}
	return err
}

// onFailure parses an on-failure value.
func (p *parser) onFailure(orig *yaml.Node, field string) (OnFailure, error) {
	v, err := p.scalar(orig, field)
	if err != nil {
		return "", err
	}
	switch up := strings.ToUpper(v); {
	case up == string(OnFailureAbort) || up == string(OnFailureContinue):
		return OnFailure(up), nil
	case strings.HasPrefix(up, "RETRY"):
		return "", errAt(orig, "%s: %s is not supported by Slipway (it retries the whole build); use ABORT or CONTINUE and retry the pipeline action instead", field, v)
	}
	return "", errAt(orig, "%s is %q; use ABORT or CONTINUE", field, v)
}

// commands parses a commands or finally list.
func (p *parser) commands(orig *yaml.Node, field string) ([]Command, error) {
	items, err := p.list(orig, field, "command")
	if err != nil {
		return nil, err
	}
	out := make([]Command, len(items))
	for i, it := range items {
		out[i] = Command{Text: strings.TrimRight(it.text, "\n"), Line: it.node.Line}
	}
	return out, nil
}

// vars parses a mapping of names to scalar values. validNames requires
// environment variable names.
func (p *parser) vars(orig *yaml.Node, field string, validNames bool) ([]Var, error) {
	entries, err := p.mapping(orig, field)
	if err != nil {
		return nil, err
	}
	out := make([]Var, 0, len(entries))
	for _, e := range entries {
		if validNames {
			if msg := envNameProblem(e.key); msg != "" {
				return nil, errAt(e.keyNode, "%s: %q %s", field, e.key, msg)
			}
		}
		v, err := p.resolve(e.val)
		if err != nil {
			return nil, err
		}
		if v.Kind != yaml.ScalarNode || isNull(v) {
			return nil, errAt(e.val, "%s.%s must be a single value, but it is %s; quote it, and write \"\" for an empty value", field, e.key, describe(v))
		}
		out = append(out, Var{Name: e.key, Value: v.Value, Line: e.keyNode.Line})
	}
	return out, nil
}

// envNameProblem says what is wrong with an environment variable name, or
// returns "".
func envNameProblem(name string) string {
	if !isEnvName(name) {
		return "is not a valid variable name; use letters, digits and _ and do not start with a digit"
	}
	if strings.HasPrefix(name, "CODEBUILD_") {
		return "starts with CODEBUILD_, a prefix reserved for the variables the build sets itself"
	}
	return ""
}

// isEnvName reports whether s is a portable shell variable name.
func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// cleanPattern validates a path or glob pattern relative to the source
// directory and returns it without a leading "./".
func cleanPattern(s string) (string, string) {
	for strings.HasPrefix(s, "./") {
		s = strings.TrimLeft(s[2:], "/")
	}
	switch {
	case s == "" || s == ".":
		return "", ""
	case strings.HasPrefix(s, "/"):
		return "", "is an absolute path; paths are relative to the source directory (CODEBUILD_SRC_DIR)"
	case strings.ContainsRune(s, 0):
		return "", "contains a NUL character"
	}
	for _, part := range strings.Split(strings.TrimSuffix(s, "/"), "/") {
		if part == ".." {
			return "", "leaves the source directory with '..'; paths must stay inside it"
		}
		if _, err := path.Match(part, ""); err != nil {
			return "", fmt.Sprintf("has an invalid glob element %q (check the [ ] brackets)", part)
		}
	}
	return s, ""
}

// patterns parses a list of relative path patterns.
func (p *parser) patterns(orig *yaml.Node, field string) ([]string, error) {
	items, err := p.list(orig, field, "path")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		c, problem := cleanPattern(it.text)
		if problem != "" {
			return nil, errAt(it.node, "%s[%d]: %q %s", field, i, it.text, problem)
		}
		if c == "" {
			c = "**/*"
		}
		out = append(out, c)
	}
	return out, nil
}

// baseDirectory parses a base-directory value.
func (p *parser) baseDirectory(orig *yaml.Node, field string) (string, error) {
	v, err := p.scalar(orig, field)
	if err != nil {
		return "", err
	}
	c, problem := cleanPattern(v)
	if problem != "" {
		return "", errAt(orig, "%s: %q %s", field, v, problem)
	}
	return strings.TrimSuffix(c, "/"), nil
}
