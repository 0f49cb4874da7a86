package appspec

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// permissions reads the permissions section (codedeploy.md §4.4), which
// only Linux instances support (application_specification.rb
// parse_permissions).
func (p *parser) permissions(kv pair) error {
	items, err := sequence(kv.value, "permissions", "a list of entries like \"- object: /var/www/html\"")
	if err != nil {
		return err
	}
	if isNull(kv.value) {
		p.warn(kv.key.Line, "permissions is empty; remove the permissions key if no permissions are set")
	}
	if len(items) > 0 && p.spec.OS != OSLinux {
		return errAt(kv.key.Line, "permissions are supported only on Linux instances, but os "+
			"is %s; remove the permissions section, or set os: linux", p.spec.OS)
	}
	for _, item := range items {
		perm, err := p.permission(item)
		if err != nil {
			return err
		}
		p.spec.Permissions = append(p.spec.Permissions, perm)
	}
	return nil
}

// permission reads one permissions entry.
func (p *parser) permission(n *yaml.Node) (Permission, error) {
	ps, err := mapping(n, "permissions entry", "\"- object: /var/www/html\" with the settings below it")
	if err != nil {
		return Permission{}, err
	}
	perm := Permission{Line: n.Line, Pattern: DefaultPattern, Types: []ObjectType{ObjectFile, ObjectDirectory}}
	rule := keyRule{where: "permissions entry", known: []string{
		"object", "pattern", "except", "owner", "group", "mode", "acls", "context", "type",
	}}
	for _, kv := range ps {
		if err := p.permissionKey(&perm, kv, rule); err != nil {
			return Permission{}, err
		}
	}
	if perm.Object == "" {
		return Permission{}, errAt(n.Line, "permissions entry has no object; add object: "+
			"with the absolute path the permissions apply to, e.g. object: /var/www/html")
	}
	return perm, nil
}

// permissionKey reads one key of a permissions entry.
func (p *parser) permissionKey(perm *Permission, kv pair, rule keyRule) error {
	var err error
	switch kv.name {
	case "object":
		perm.Object, err = parseObject(kv.value)
	case "pattern":
		err = parsePattern(perm, kv.value)
	case "except":
		perm.Except, err = stringList(kv.value, "except", "except: [my-file.txt]")
	case "owner", "group":
		err = parseAccount(perm, kv)
	case "mode":
		perm.Mode, err = parseModeNode(kv.value)
	case "acls":
		perm.ACLs, err = parseACLs(kv.value)
	case "context":
		perm.Context, err = p.context(kv)
	case "type":
		err = parseTypes(perm, kv.value)
	default:
		err = p.unknown(kv, rule)
	}
	return err
}

// parseObject reads a permission's object, which the agent strips. It must
// be absolute: the agent matches it against the installed paths.
func parseObject(n *yaml.Node) (string, error) {
	v, err := scalar(n, "object", "object: /var/www/html")
	if err != nil {
		return "", err
	}
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", errAt(n.Line, "object is blank; give the absolute path the permissions "+
			"apply to, e.g. object: /var/www/html")
	case strings.ContainsRune(v, 0):
		return "", errAt(n.Line, "object contains a NUL character; remove it")
	case !strings.HasPrefix(v, "/"):
		return "", errAt(n.Line, "object %s is not an absolute path; permissions apply to "+
			"installed files, so give their path on the instance, e.g. object: /var/www/html", quote(v))
	}
	return v, nil
}

// parsePattern reads a permission's pattern; empty means DefaultPattern.
func parsePattern(perm *Permission, n *yaml.Node) error {
	if isNull(n) {
		return nil
	}
	v, err := scalar(n, "pattern", "pattern: \"*.txt\"")
	if err != nil {
		return err
	}
	if v == "" {
		return errAt(n.Line, "pattern is an empty string; remove it to match everything "+
			"(\"**\"), or give a glob such as \"*.txt\"")
	}
	perm.Pattern = v
	return nil
}

// stringList reads a list of strings. The agent calls each on the value,
// so a single string fails there; here it is an error that shows the list
// form.
func stringList(n *yaml.Node, field, example string) ([]string, error) {
	items, err := sequence(n, field, example)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		v, err := scalar(item, field+" entry", example)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// parseAccount reads owner or group. chown receives them, so they must be
// plain account names.
func parseAccount(perm *Permission, kv pair) error {
	if isNull(kv.value) {
		return nil
	}
	v, err := scalar(kv.value, kv.name, kv.name+": ec2-user")
	if err != nil {
		return err
	}
	if msg := checkAccount(v); msg != "" {
		return errAt(kv.value.Line, "%s %s %s", kv.name, quote(v), msg)
	}
	if kv.name == "owner" {
		perm.Owner = v
	} else {
		perm.Group = v
	}
	return nil
}

// parseACLs reads a permission's acls list.
func parseACLs(n *yaml.Node) ([]ACE, error) {
	entries, err := stringList(n, "acls", "acls: [\"u:mary:rw\"]")
	if err != nil || isNull(n) {
		return nil, err
	}
	out := make([]ACE, 0, len(entries))
	for i, e := range entries {
		ace, err := ParseACE(e)
		if err != nil {
			return nil, errAt(n.Content[i].Line, "%s", err.Error())
		}
		out = append(out, ace)
	}
	return out, nil
}

// parseTypes reads a permission's type list (file and/or directory).
func parseTypes(perm *Permission, n *yaml.Node) error {
	if isNull(n) {
		return nil
	}
	entries, err := stringList(n, "type", "type: [file] or type: [directory]")
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return errAt(n.Line, "type is an empty list, so the permission applies to nothing; "+
			"list file and/or directory, or remove type to apply it to both")
	}
	types := make([]ObjectType, 0, len(entries))
	for i, e := range entries {
		t := ObjectType(e)
		if t != ObjectFile && t != ObjectDirectory {
			return errAt(n.Content[i].Line, "type %s is not supported; use file or directory", quote(e))
		}
		types = append(types, t)
	}
	perm.Types = types
	return nil
}
