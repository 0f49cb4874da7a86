package appspec

import (
	"fmt"
	"strings"
)

// ACLTag is the kind of an ACL entry.
type ACLTag string

// The ACL entry kinds (setfacl(1)).
const (
	ACLUser  ACLTag = "user"
	ACLGroup ACLTag = "group"
	ACLMask  ACLTag = "mask"
	ACLOther ACLTag = "other"
)

// ACE is one ACL entry of a permission, such as u:mary:rw.
type ACE struct {
	// Default marks a default ACL entry (d: or default: prefix), which
	// applies to directories only.
	Default bool
	// Tag is the kind of entry.
	Tag ACLTag
	// Name is the user or group; "" for mask and other entries.
	Name string
	// Read, Write and Execute are the entry's permissions.
	Read    bool
	Write   bool
	Execute bool
}

// String formats the entry as setfacl takes it, e.g. "user:mary:rw-" or
// "default:mask::r-x" (ace_info.rb get_ace).
func (a ACE) String() string {
	var b strings.Builder
	if a.Default {
		b.WriteString("default:")
	}
	b.WriteString(string(a.Tag) + ":" + a.Name + ":")
	b.WriteByte(flag(a.Read, 'r'))
	b.WriteByte(flag(a.Write, 'w'))
	b.WriteByte(flag(a.Execute, 'x'))
	return b.String()
}

// flag returns c when set, else '-'.
func flag(set bool, c byte) byte {
	if set {
		return c
	}
	return '-'
}

// ParseACE parses an ACL entry with the agent's grammar (ace_info.rb):
// [d[efault]:][u[ser]|g[roup]|m[ask]|o[ther]:]name:perms, where perms is
// one octal digit or letters from rwx-. A named entry without a kind is a
// user entry. Entries for the unnamed owner or group ("u::rw", "g::r",
// "o::r") are rejected: they set the base permissions, which mode sets
// (codedeploy.md §4.4).
func ParseACE(s string) (ACE, error) {
	parts := strings.Split(s, ":")
	n := len(parts)
	if n < 2 || n > 4 {
		return ACE{}, aclError(s, "must have the form [d:]kind:name:perms, e.g. u:mary:rw")
	}
	var a ACE
	if n == 4 {
		if !oneOf(parts[0], "d", "default") {
			return ACE{}, aclError(s, "starts with "+quote(parts[0])+"; only d: or default: may come first")
		}
		a.Default = true
	}
	if n >= 3 {
		if err := a.setKind(parts[n-3], s); err != nil {
			return ACE{}, err
		}
	}
	if err := a.setName(parts[n-2], s); err != nil {
		return ACE{}, err
	}
	return a, a.setPerms(parts[n-1], s)
}

// setKind reads the kind field, which may also be the default marker.
func (a *ACE) setKind(kind, s string) error {
	switch {
	case oneOf(kind, "d", "default") && !a.Default:
		a.Default = true
	case oneOf(kind, "u", "user"):
		a.Tag = ACLUser
	case oneOf(kind, "g", "group"):
		a.Tag = ACLGroup
	case oneOf(kind, "m", "mask"):
		a.Tag = ACLMask
	case oneOf(kind, "o", "other"):
		a.Tag = ACLOther
	default:
		return aclError(s, "has kind "+quote(kind)+"; use u (user), g (group), m (mask) or o (other)")
	}
	return nil
}

// setName reads the name field; without a kind, m and o name the mask and
// other entries, and anything else names a user.
func (a *ACE) setName(name, s string) error {
	switch {
	case a.Tag == "" && oneOf(name, "m", "mask"):
		a.Tag = ACLMask
	case a.Tag == "" && oneOf(name, "o", "other"):
		a.Tag = ACLOther
	default:
		if a.Tag == "" {
			a.Tag = ACLUser
		}
		a.Name = name
	}
	if (a.Tag == ACLMask || a.Tag == ACLOther) && a.Name != "" {
		return aclError(s, "names "+quote(a.Name)+", but mask and other entries take no name")
	}
	if !a.Default && a.Tag != ACLMask && a.Name == "" {
		return aclError(s, "sets the base permissions of the owner, group or others; "+
			"use mode for those and keep acls for named users and groups")
	}
	return nil
}

// setPerms reads the permissions field.
func (a *ACE) setPerms(perms, s string) error {
	if len(perms) == 1 && perms[0] >= '0' && perms[0] <= '7' {
		d := perms[0] - '0'
		a.Read, a.Write, a.Execute = d&4 != 0, d&2 != 0, d&1 != 0
		return nil
	}
	for _, c := range perms {
		switch c {
		case 'r':
			a.Read = true
		case 'w':
			a.Write = true
		case 'x':
			a.Execute = true
		case '-':
		default:
			return aclError(s, fmt.Sprintf("has the permission character %q; use r, w, x and - "+
				"or one octal digit", c))
		}
	}
	return nil
}

// oneOf reports whether s is short or long.
func oneOf(s, short, long string) bool { return s == short || s == long }

// aclError is the error for an invalid entry s.
func aclError(s, why string) error {
	return fmt.Errorf("acls entry %s %s", quote(s), why)
}
