package appspec

import (
	"fmt"
	"strconv"
	"strings"
)

// maxCategory is the highest SELinux category number (range_info.rb).
const maxCategory = 1023

// context reads a permission's SELinux context (codedeploy.md §4.4;
// context_info.rb). Slipway agents do not apply contexts, so a parsed
// context adds a warning.
func (p *parser) context(kv pair) (*SELinuxContext, error) {
	n := kv.value
	if isNull(n) {
		return nil, nil
	}
	ps, err := mapping(n, "context", "user:, type: and range: lines indented below context:")
	if err != nil {
		return nil, err
	}
	var c SELinuxContext
	rule := keyRule{where: "context", known: []string{"user", "name", "type", "range"}}
	for _, kv := range ps {
		if err := p.contextKey(&c, kv, rule); err != nil {
			return nil, err
		}
	}
	if c.Type == "" {
		return nil, errAt(n.Line, "context has no type; add type:, e.g. type: httpd_sys_content_t")
	}
	if _, hasUser := keyLine(ps, "user"); hasUser {
		if line, hasName := keyLine(ps, "name"); hasName {
			return nil, errAt(line, "context has both user and name, which are the same "+
				"setting; keep user")
		}
	}
	p.warn(kv.key.Line, "context sets an SELinux context, which Slipway agents do not apply; "+
		"the files keep their current context")
	return &c, nil
}

// contextKey reads one key of a context.
func (p *parser) contextKey(c *SELinuxContext, kv pair, rule keyRule) error {
	switch kv.name {
	case "user", "name":
		return contextValue(&c.User, kv, "user: unconfined_u")
	case "type":
		return contextValue(&c.Type, kv, "type: httpd_sys_content_t")
	case "range":
		if err := contextValue(&c.Range, kv, "range: s0"); err != nil {
			return err
		}
		if err := checkRange(c.Range); err != nil {
			return errAt(kv.value.Line, "context range %s %s", quote(c.Range), err.Error())
		}
		return nil
	}
	return p.unknown(kv, rule)
}

// contextValue reads one scalar of a context into dst.
func contextValue(dst *string, kv pair, example string) error {
	v, err := scalar(kv.value, "context "+kv.name, example)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

// keyLine returns the line of key name in ps.
func keyLine(ps []pair, name string) (int, bool) {
	for _, kv := range ps {
		if kv.name == name {
			return kv.key.Line, true
		}
	}
	return 0, false
}

// checkRange validates an MLS range, s<n>[-s<n>][:c<n>[.c<n>](,c<n>[.c<n>])*],
// with the agent's rules: the high level is not below the low one,
// categories are at most c1023, a category range is ascending, and no
// category is listed twice (range_info.rb). The error text completes a
// sentence that starts with the range.
func checkRange(r string) error {
	levels, cats, hasCats := strings.Cut(r, ":")
	lo, hi, hasHi := strings.Cut(levels, "-")
	low, err := rangeNumber(lo, 's', -1)
	if err != nil {
		return err
	}
	if hasHi {
		high, err := rangeNumber(hi, 's', -1)
		if err != nil {
			return err
		}
		if high < low {
			return fmt.Errorf("has a high level below its low level; write it as s%d-s%d", high, low)
		}
	}
	if hasCats {
		return checkCategories(cats)
	}
	return nil
}

// checkCategories validates the category list of a range.
func checkCategories(list string) error {
	seen := make(map[int]bool)
	for _, part := range strings.Split(list, ",") {
		a, b, isSpan := strings.Cut(part, ".")
		first, err := rangeNumber(a, 'c', maxCategory)
		if err != nil {
			return err
		}
		last := first
		if isSpan {
			if last, err = rangeNumber(b, 'c', maxCategory); err != nil {
				return err
			}
			if last < first {
				return fmt.Errorf("has the category span c%d.c%d, which runs backwards", first, last)
			}
		}
		for c := first; c <= last; c++ {
			if seen[c] {
				return fmt.Errorf("lists category c%d more than once", c)
			}
			seen[c] = true
		}
	}
	return nil
}

// rangeNumber parses a sensitivity (s0) or category (c5) of a range; max
// < 0 means no upper limit.
func rangeNumber(v string, prefix byte, max int) (int, error) {
	digits, ok := strings.CutPrefix(v, string(prefix))
	bad := fmt.Errorf("has %s where %c followed by a number is expected, e.g. %c0",
		quote(v), prefix, prefix)
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" || len(digits) > 9 {
		return 0, bad
	}
	n, err := strconv.Atoi(digits)
	if err != nil || (max >= 0 && n > max) {
		return 0, fmt.Errorf("has %s; categories go from c0 to c%d", quote(v), maxCategory)
	}
	return n, nil
}
