package appspec

import (
	"fmt"
	"io/fs"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Mode is a permission's numeric mode, as chmod takes it.
type Mode struct {
	// Text is the mode as the agent stores it: three or four octal digits,
	// left-padded with zeros ("7" becomes "007").
	Text string
	// Bits are the permission bits plus setuid (04000), setgid (02000) and
	// sticky (01000).
	Bits uint32
}

// FileMode returns the mode as an fs.FileMode, with the setuid, setgid and
// sticky bits moved to their fs flags.
func (m Mode) FileMode() fs.FileMode {
	mode := fs.FileMode(m.Bits & 0o777)
	if m.Bits&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m.Bits&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m.Bits&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// ParseMode parses a mode the way the agent's ModeInfo does: the text is
// left-padded with zeros to three digits, may have at most four, and every
// digit must be 0 to 7. Symbolic modes such as u+x are not supported
// (codedeploy.md §4.4; mode_info.rb).
func ParseMode(s string) (Mode, error) {
	if s == "" {
		return Mode{}, fmt.Errorf("mode is empty; give octal digits such as 644, or remove mode")
	}
	for len(s) < 3 {
		s = "0" + s
	}
	if len(s) > 4 {
		return Mode{}, fmt.Errorf("mode %s has more than four digits; give one to four "+
			"octal digits such as 644 or 4755", quote(s))
	}
	for _, c := range s {
		if c < '0' || c > '7' {
			return Mode{}, fmt.Errorf("mode %s contains %q, which is not an octal digit; give "+
				"numeric chmod digits 0-7 such as 644 (symbolic modes like u+x are not "+
				"supported)", quote(s), c)
		}
	}
	bits, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return Mode{}, fmt.Errorf("mode %s is not an octal number", quote(s))
	}
	return Mode{Text: s, Bits: uint32(bits)}, nil
}

// parseModeNode reads a permission's mode. An unquoted number with a
// leading zero is an error: YAML 1.1, which the agent uses, reads 0644 as
// the octal number 420, and the agent would then apply mode 420.
func parseModeNode(n *yaml.Node) (*Mode, error) {
	if isNull(n) {
		return nil, nil
	}
	v, err := scalar(n, "mode", "mode: 644")
	if err != nil {
		return nil, err
	}
	if !isQuoted(n) && n.Tag == "!!int" && len(v) > 1 && v[0] == '0' {
		return nil, errAt(n.Line, "mode %s starts with a zero but is not quoted; YAML reads it "+
			"as an octal number and the agent would apply a different mode. Quote it "+
			"(mode: \"%s\") or drop the leading zero (mode: %s)", v, v, trimZeros(v))
	}
	m, err := ParseMode(v)
	if err != nil {
		return nil, errAt(n.Line, "%s", err.Error())
	}
	return &m, nil
}

// trimZeros drops leading zeros, keeping at least one digit.
func trimZeros(v string) string {
	for len(v) > 1 && v[0] == '0' {
		v = v[1:]
	}
	return v
}
