package buildspec

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// env parses the env section.
func (p *parser) env(e entry, env *Env) error {
	entries, err := p.mapping(e.val, "env")
	if err != nil {
		return err
	}
	for _, ee := range entries {
		if err := p.envKey(ee, env); err != nil {
			return err
		}
	}
	return nil
}

// envKey parses one key of the env section.
func (p *parser) envKey(e entry, env *Env) error {
	var err error
	switch e.key {
	case "shell":
		env.Shell, err = p.shell(e.val)
	case "variables":
		env.Variables, err = p.vars(e.val, "env.variables", true)
	case "parameter-store":
		env.ParameterStore, err = p.vars(e.val, "env.parameter-store", true)
		if err == nil {
			err = checkNonEmptyValues(env.ParameterStore, "env.parameter-store", "parameter name")
		}
	case "secrets-manager":
		env.SecretsManager, err = p.secrets(e.val)
	case "exported-variables":
		env.ExportedVariables, err = p.exported(e.val)
	case "git-credential-helper":
		env.GitCredentialHelper, err = p.boolean(e.val, "env.git-credential-helper")
		p.note(e, "git-credential-helper is ignored: Slipway does not install a git credential helper in builds")
	case "plaintext":
		err = errAt(e.keyNode, "env.plaintext is the version 0.1 name; in version 0.2 it is env.variables")
	default:
		err = unknownKey(e, "env", "shell", "variables", "parameter-store", "secrets-manager", "exported-variables", "git-credential-helper")
	}
	return err
}

// shell validates env.shell.
func (p *parser) shell(orig *yaml.Node) (string, error) {
	v, err := p.scalar(orig, "env.shell")
	if err != nil {
		return "", err
	}
	switch v {
	case "bash", "/bin/bash", "sh", "/bin/sh":
		return v, nil
	case "powershell.exe", "cmd.exe", "pwsh", "powershell":
		return "", errAt(orig, "env.shell %q is a Windows shell; Slipway runs builds on Linux, so use bash or /bin/sh", v)
	}
	return "", errAt(orig, "env.shell %q is not supported; use bash or /bin/sh", v)
}

// checkNonEmptyValues rejects empty references.
func checkNonEmptyValues(vars []Var, field, what string) error {
	for _, v := range vars {
		if strings.TrimSpace(v.Value) == "" {
			return &ParseError{Line: v.Line, Msg: fmt.Sprintf("%s.%s: the %s is empty", field, v.Name, what)}
		}
	}
	return nil
}

// secrets parses env.secrets-manager.
func (p *parser) secrets(orig *yaml.Node) ([]SecretRef, error) {
	vars, err := p.vars(orig, "env.secrets-manager", true)
	if err != nil {
		return nil, err
	}
	out := make([]SecretRef, 0, len(vars))
	for _, v := range vars {
		ref, problem := parseSecretRef(v.Value)
		if problem != "" {
			return nil, &ParseError{Line: v.Line, Msg: fmt.Sprintf("env.secrets-manager.%s: %q %s", v.Name, v.Value, problem)}
		}
		ref.Name, ref.Line = v.Name, v.Line
		out = append(out, ref)
	}
	return out, nil
}

// parseSecretRef splits secret-id:json-key:version-stage:version-id. A
// secret-id that is an ARN keeps its own seven colon-separated fields.
func parseSecretRef(s string) (SecretRef, string) {
	parts := strings.Split(s, ":")
	idFields := 1
	if strings.HasPrefix(s, "arn:") {
		idFields = 7
		if len(parts) < idFields {
			return SecretRef{}, "is an incomplete secret ARN (arn:aws:secretsmanager:region:account:secret:name)"
		}
	}
	ref := SecretRef{SecretID: strings.Join(parts[:idFields], ":")}
	rest := parts[idFields:]
	switch {
	case strings.TrimSpace(ref.SecretID) == "":
		return SecretRef{}, "has an empty secret-id; write secret-id:json-key"
	case len(rest) > 3:
		return SecretRef{}, "has too many ':' fields; the form is secret-id:json-key:version-stage:version-id"
	}
	rest = append(rest, "", "", "")
	ref.JSONKey, ref.VersionStage = rest[0], rest[1]
	if ref.VersionStage != "" && ref.VersionStage != "AWSCURRENT" {
		return SecretRef{}, fmt.Sprintf("asks for version-stage %q; Slipway secrets are not versioned, so leave it empty or use AWSCURRENT", ref.VersionStage)
	}
	if rest[2] != "" {
		return SecretRef{}, "asks for a version-id; Slipway secrets are not versioned, so remove it"
	}
	return ref, ""
}

// exported parses env.exported-variables.
func (p *parser) exported(orig *yaml.Node) ([]string, error) {
	items, err := p.list(orig, "env.exported-variables", "variable name")
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for i, it := range items {
		switch {
		case !isEnvName(it.text):
			return nil, errAt(it.node, "env.exported-variables[%d]: %q is not a valid variable name", i, it.text)
		case strings.HasPrefix(it.text, "AWS_"):
			return nil, errAt(it.node, "env.exported-variables[%d]: %q cannot be exported; CodeBuild does not export variables that start with AWS_", i, it.text)
		}
		if !seen[it.text] {
			seen[it.text] = true
			out = append(out, it.text)
			p.exportedLines[it.text] = it.node.Line
		}
	}
	return out, nil
}

// checkEnv checks the rules that span the env subsections: a name is
// defined once, and secrets are not exported as plain-text output
// variables. exportedLines maps exported names to their lines.
func checkEnv(env *Env, exportedLines map[string]int) error {
	defined := map[string]string{}
	secret := map[string]bool{}
	add := func(name, section string, line int, isSecret bool) error {
		if prev, dup := defined[name]; dup {
			return &ParseError{Line: line, Msg: fmt.Sprintf("env.%s.%s is also defined in env.%s; define each variable once", section, name, prev)}
		}
		defined[name], secret[name] = section, isSecret
		return nil
	}
	for _, v := range env.Variables {
		if err := add(v.Name, "variables", v.Line, false); err != nil {
			return err
		}
	}
	for _, v := range env.ParameterStore {
		if err := add(v.Name, "parameter-store", v.Line, true); err != nil {
			return err
		}
	}
	for _, r := range env.SecretsManager {
		if err := add(r.Name, "secrets-manager", r.Line, true); err != nil {
			return err
		}
	}
	for _, name := range env.ExportedVariables {
		if secret[name] {
			return &ParseError{Line: exportedLines[name], Msg: fmt.Sprintf("env.exported-variables lists %s, which holds an env.%s secret; output variables are stored in plain text, so do not export secrets", name, defined[name])}
		}
	}
	return nil
}
