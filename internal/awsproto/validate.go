package awsproto

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Violations collects model-constraint violations in the order found.
// The zero value is ready to use.
type Violations struct {
	msgs []string
}

// maxEchoed bounds how much of an offending value a message repeats.
const maxEchoed = 64

// Add records that the value at path breaks constraint.
func (v *Violations) Add(path string, value any, constraint string) {
	var shown string
	switch x := value.(type) {
	case string:
		if len(x) > maxEchoed {
			x = x[:maxEchoed] + "..."
		}
		shown = "'" + x + "'"
	default:
		shown = fmt.Sprint(x)
	}
	v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", shown, path, constraint))
}

// Null records that the required member at path is missing.
func (v *Violations) Null(path string) {
	v.msgs = append(v.msgs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", path))
}

// Len reports how many violations were recorded.
func (v *Violations) Len() int { return len(v.msgs) }

// Err returns a ValidationException listing the violations, or nil.
func (v *Violations) Err() error {
	switch len(v.msgs) {
	case 0:
		return nil
	case 1:
		return Errorf(ValidationException, "1 validation error detected: %s", v.msgs[0])
	}
	return Errorf(ValidationException, "%d validation errors detected: %s", len(v.msgs), strings.Join(v.msgs, "; "))
}

// Join appends a member name to a path.
func Join(path, member string) string {
	if path == "" {
		return member
	}
	return path + "." + member
}

// Index appends a list index to a path.
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Key appends a map key to a path.
func Key(path, key string) string { return path + "[" + strconv.Quote(key) + "]" }

// OneOf reports whether s is one of values.
func OneOf(s string, values []string) bool { return slices.Contains(values, s) }
