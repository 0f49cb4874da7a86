package appspec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// pair is one key/value of a YAML mapping.
type pair struct {
	name  string
	key   *yaml.Node
	value *yaml.Node
}

// pairs returns the pairs of mapping n in file order. It rejects duplicate
// keys, which Ruby's YAML (and so the agent) resolves silently by keeping
// the last one, and keys that are not plain names. where names the mapping
// in messages.
func pairs(n *yaml.Node, where string) ([]pair, error) {
	out := make([]pair, 0, len(n.Content)/2)
	first := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := checkKey(k, where); err != nil {
			return nil, err
		}
		if line, dup := first[k.Value]; dup {
			return nil, errAt(k.Line, "%s: duplicate key %s (first on line %d); %s",
				where, keyName(k.Value), line, duplicateHint(where))
		}
		first[k.Value] = k.Line
		out = append(out, pair{name: k.Value, key: k, value: v})
	}
	return out, nil
}

// duplicateHint says how to fix a duplicate key in where.
func duplicateHint(where string) string {
	if where == "hooks" {
		return "list all the scripts of an event under a single event name, in the order they run"
	}
	return "give each key only once and delete the other"
}

// checkKey rejects aliases, merge keys and keys that are lists or mappings.
func checkKey(k *yaml.Node, where string) error {
	switch {
	case k.Kind == yaml.AliasNode:
		return errAt(k.Line, "%s: a key is a YAML alias (*%s); aliases are not supported "+
			"in appspec.yml, write the key out", where, k.Value)
	case k.Kind != yaml.ScalarNode:
		return errAt(k.Line, "%s: a key is %s; keys must be plain names", where, describe(k))
	case k.Tag == "!!merge":
		return errAt(k.Line, "%s: YAML merge keys (<<) are not supported in appspec.yml; "+
			"write the keys out in full", where)
	}
	return nil
}

// isNull reports whether n is an empty value (key: with nothing after it,
// ~ or null).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// isQuoted reports whether scalar n is written in quotes.
func isQuoted(n *yaml.Node) bool {
	return n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
}

// checkAlias rejects a YAML alias where a value is expected. Psych 4, which
// newer agents run on, refuses aliases in YAML.load as well.
func checkAlias(n *yaml.Node, field string) error {
	if n.Kind == yaml.AliasNode {
		return errAt(n.Line, "%s is a YAML alias (*%s); aliases are not supported in "+
			"appspec.yml, write the value out in full", field, n.Value)
	}
	return nil
}

// scalar returns the text of scalar n. An empty value, a list or a mapping
// is an error that names field.
func scalar(n *yaml.Node, field, example string) (string, error) {
	if err := checkAlias(n, field); err != nil {
		return "", err
	}
	if isNull(n) {
		return "", errAt(n.Line, "%s is empty; give a value, e.g. %s", field, example)
	}
	if n.Kind != yaml.ScalarNode {
		return "", errAt(n.Line, "%s must be a single value, but it is %s; write it as %s",
			field, describe(n), example)
	}
	return n.Value, nil
}

// sequence checks that n is a list; an empty value is allowed and yields
// nil.
func sequence(n *yaml.Node, field, example string) ([]*yaml.Node, error) {
	if err := checkAlias(n, field); err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n.Line, "%s must be a list, but it is %s; write it as %s",
			field, describe(n), example)
	}
	return n.Content, nil
}

// mapping checks that n is a mapping and returns its pairs.
func mapping(n *yaml.Node, field, example string) ([]pair, error) {
	if err := checkAlias(n, field); err != nil {
		return nil, err
	}
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n.Line, "%s must be a mapping of keys, but it is %s; write it as %s",
			field, describe(n), example)
	}
	return pairs(n, field)
}

// describe names the kind of n for messages.
func describe(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.AliasNode:
		return "a YAML alias"
	case isNull(n):
		return "empty"
	default:
		return fmt.Sprintf("the value %s", quote(n.Value))
	}
}

// quote quotes s for a message, shortened to keep messages readable. It
// escapes only what would garble the message, so a Windows path keeps its
// single backslashes.
func quote(s string) string {
	const max = 60
	if len(s) > max {
		s = s[:max] + "..."
	}
	for _, r := range s {
		if r == '"' || r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return `"` + s + `"`
}

// keyName formats a key for a message: as it is when it is a short run of
// printable characters without spaces, else quoted.
func keyName(s string) string {
	if s == "" || len(s) > 60 {
		return quote(s)
	}
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsGraphic(r) || unicode.IsSpace(r) || r == '"' {
			return quote(s)
		}
	}
	return s
}

// keyRule says how an entry treats a key it does not know.
type keyRule struct {
	where string   // the entry, for messages
	known []string // the keys the entry reads
}

// unknown handles a key the entry does not read. A key that looks like a
// misspelt known key is an error, because the agent would ignore it
// silently; any other key is ignored with a warning, as the agent ignores
// it.
func (p *parser) unknown(kv pair, r keyRule) error {
	if want := closest(kv.name, r.known); want != "" {
		return errAt(kv.key.Line, "%s: unknown key %s; did you mean %s? (keys are "+
			"case-sensitive, and the agent would ignore %s)", r.where, keyName(kv.name), want, keyName(kv.name))
	}
	p.warn(kv.key.Line, "%s: key %s is not part of the AppSpec format and is ignored "+
		"(known keys: %s)", r.where, keyName(kv.name), strings.Join(r.known, ", "))
	return nil
}

// closest returns the entry of known that name most likely misspells: the
// same word in another case, or one within one edit (two for words longer
// than four letters). It returns "" when none is close.
func closest(name string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(name, k) {
			return k
		}
	}
	if len(name) < 3 || len(name) > 64 {
		return ""
	}
	for _, k := range known {
		limit := 2
		if len(k) <= 4 {
			limit = 1
		}
		if editDistance(strings.ToLower(name), strings.ToLower(k)) <= limit {
			return k
		}
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
