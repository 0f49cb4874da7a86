package buildspec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	// maxSpecSize bounds the buildspec file Parse accepts.
	maxSpecSize = 1 << 20
	// maxNodeVisits bounds the YAML nodes Parse visits, so that aliases
	// cannot make it walk an exponentially large tree.
	maxNodeVisits = 200_000
	// maxAliasChain bounds alias-to-alias chains.
	maxAliasChain = 64
)

// Parse parses and validates a version 0.2 buildspec. Every error is a
// *ParseError naming the line of the offending node. Parse does no I/O.
func Parse(data []byte) (spec *Spec, err error) {
	if len(data) > maxSpecSize {
		return nil, &ParseError{Msg: fmt.Sprintf("the file is %d bytes; a buildspec may be at most %d bytes", len(data), maxSpecSize)}
	}
	defer func() {
		// The YAML library is third-party code fed untrusted input: turn a
		// panic in it into a parse error rather than crash the server.
		if r := recover(); r != nil {
			spec, err = nil, &ParseError{Msg: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	root, err := decodeDocument(data)
	if err != nil {
		return nil, err
	}
	p := &parser{exportedLines: map[string]int{}}
	return p.spec(root)
}

// decodeDocument decodes the single YAML document of data and returns its
// root node.
func decodeDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, emptyFileError()
		}
		return nil, yamlError(err, data)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &ParseError{Line: extra.Line, Column: extra.Column,
			Msg: "the file holds more than one YAML document; a buildspec is one document, so remove the '---' separator and what follows"}
	case !errors.Is(err, io.EOF):
		return nil, yamlError(err, data)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, emptyFileError()
	}
	return doc.Content[0], nil
}

func emptyFileError() *ParseError {
	return &ParseError{Line: 1, Msg: "the file is empty; a buildspec needs at least 'version: 0.2' and a phases section"}
}

// yamlError turns a YAML syntax error ("yaml: line 3: ...") into a
// ParseError with a hint for the common mistakes. yaml.v3 reports the line
// where the enclosing block starts, so the line of the problem itself is
// found by parsing ever shorter prefixes of the file.
func yamlError(err error, data []byte) *ParseError {
	full := err.Error()
	msg := strings.TrimPrefix(full, "yaml: ")
	blockLine := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, convErr := strconv.Atoi(rest[:i]); convErr == nil {
				blockLine, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	line := locateSyntaxError(data, full)
	if line == 0 {
		line = blockLine
	}
	if blockLine > 0 && line != blockLine {
		msg += fmt.Sprintf(" (in the block that starts on line %d)", blockLine)
	}
	hint := "check the indentation and quote commands that contain ': ' or start with a special character such as '*', '&', '!', '{' or '['"
	if lineHasTab(data, line) {
		hint = "the line is indented with a tab; YAML only allows spaces for indentation"
	}
	return &ParseError{Line: line, Msg: fmt.Sprintf("invalid YAML: %s; %s", msg, hint)}
}

// maxLocateLines bounds the files whose syntax errors are located by
// bisection.
const maxLocateLines = 20_000

// locateSyntaxError returns the smallest k such that the first k lines of
// data fail with the same error text as the whole file, or 0. The parser
// stops at its first error, so every prefix that reaches the offending
// line fails the same way and shorter ones do not: a binary search finds
// the line.
func locateSyntaxError(data []byte, full string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxLocateLines {
		return 0
	}
	same := func(k int) bool {
		err := syntaxError(bytes.Join(lines[:k], nil))
		return err != nil && err.Error() == full
	}
	lo, hi := 1, len(lines)
	if !same(hi) {
		return 0
	}
	for lo < hi {
		if mid := (lo + hi) / 2; same(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// syntaxError decodes every document of data and returns the first error.
func syntaxError(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// lineHasTab reports whether the 1-based line n of data has a tab in its
// leading whitespace.
func lineHasTab(data []byte, n int) bool {
	if n <= 0 {
		return false
	}
	lines := bytes.Split(data, []byte("\n"))
	if n > len(lines) {
		return false
	}
	l := lines[n-1]
	return bytes.Contains(l[:len(l)-len(bytes.TrimLeft(l, " \t"))], []byte("\t"))
}

// parser walks the YAML node tree. It counts visited nodes and collects the
// notes about ignored keys.
type parser struct {
	visits        int
	notes         []Note
	exportedLines map[string]int
}

// entry is one key/value pair of a mapping.
type entry struct {
	key     string
	keyNode *yaml.Node
	val     *yaml.Node
}

// errAt builds a ParseError at node n.
func errAt(n *yaml.Node, format string, args ...any) *ParseError {
	return &ParseError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// note records that the key of e is accepted and ignored.
func (p *parser) note(e entry, msg string) {
	p.notes = append(p.notes, Note{Line: e.keyNode.Line, Msg: msg})
}

// resolve follows aliases and charges the visit budget.
func (p *parser) resolve(n *yaml.Node) (*yaml.Node, error) {
	orig := n
	for i := 0; n.Kind == yaml.AliasNode; i++ {
		if n.Alias == nil || i >= maxAliasChain {
			return nil, errAt(orig, "the YAML alias cannot be resolved")
		}
		n = n.Alias
	}
	p.visits++
	if p.visits > maxNodeVisits {
		return nil, errAt(orig, "the buildspec expands to more than %d YAML nodes through aliases; write the values out instead", maxNodeVisits)
	}
	return n, nil
}

// isNull reports whether n is an empty or null scalar.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names the kind of node n for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "empty"
		}
		return fmt.Sprintf("the value %q", n.Value)
	default:
		return "something else"
	}
}

// mapping returns the entries of the mapping at orig, in file order, with
// merge keys (<<) applied. A null value is an empty mapping. Duplicate keys
// are errors.
func (p *parser) mapping(orig *yaml.Node, field string) ([]entry, error) {
	n, err := p.resolve(orig)
	if err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, errAt(orig, "%s must be a mapping of 'key: value' lines, but it is %s", field, describe(n))
	}
	var out, merged []entry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kOrig, v := n.Content[i], n.Content[i+1]
		k, err := p.resolve(kOrig)
		if err != nil {
			return nil, err
		}
		if k.Kind != yaml.ScalarNode {
			return nil, errAt(kOrig, "%s: a key must be a plain string, but it is %s", field, describe(k))
		}
		if k.Tag == "!!merge" {
			m, err := p.mergeSources(v, field)
			if err != nil {
				return nil, err
			}
			merged = append(merged, m...)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			return nil, errAt(kOrig, "%s: duplicate key %q (first defined on line %d); keep only one", field, k.Value, prev.Line)
		}
		seen[k.Value] = kOrig
		out = append(out, entry{key: k.Value, keyNode: kOrig, val: v})
	}
	for _, m := range merged {
		if _, ok := seen[m.key]; !ok {
			seen[m.key] = m.keyNode
			out = append(out, m)
		}
	}
	return out, nil
}

// mergeSources returns the entries a merge key (<<) brings in: one mapping
// or a list of mappings, earlier ones winning.
func (p *parser) mergeSources(orig *yaml.Node, field string) ([]entry, error) {
	n, err := p.resolve(orig)
	if err != nil {
		return nil, err
	}
	if n.Kind != yaml.SequenceNode {
		return p.mapping(orig, field+" (merged with <<)")
	}
	var out []entry
	seen := map[string]bool{}
	for _, item := range n.Content {
		m, err := p.mapping(item, field+" (merged with <<)")
		if err != nil {
			return nil, err
		}
		for _, e := range m {
			if !seen[e.key] {
				seen[e.key] = true
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// scalar returns the scalar at orig; null is an error.
func (p *parser) scalar(orig *yaml.Node, field string) (string, error) {
	n, err := p.resolve(orig)
	if err != nil {
		return "", err
	}
	if n.Kind != yaml.ScalarNode {
		return "", errAt(orig, "%s must be a single value, but it is %s", field, describe(n))
	}
	if isNull(n) {
		return "", errAt(orig, "%s has no value; give it one or remove the key", field)
	}
	return n.Value, nil
}

// boolean parses yes/no/true/false (any case), as the CodeBuild reference
// writes them.
func (p *parser) boolean(orig *yaml.Node, field string) (bool, error) {
	v, err := p.scalar(orig, field)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(v) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, errAt(orig, "%s is %q; use yes or no", field, v)
}

// item is one element of a list of scalars.
type item struct {
	text string
	node *yaml.Node
}

// list returns the scalars of the list at orig. A single scalar is a list
// of one. what names one element for messages ("command", "file pattern").
func (p *parser) list(orig *yaml.Node, field, what string) ([]item, error) {
	n, err := p.resolve(orig)
	if err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, errAt(orig, "%s is empty; list at least one %s or remove the key", field, what)
	}
	elems := []*yaml.Node{orig}
	if n.Kind == yaml.SequenceNode {
		elems = n.Content
	}
	if len(elems) == 0 {
		return nil, errAt(orig, "%s is an empty list; list at least one %s or remove the key", field, what)
	}
	out := make([]item, 0, len(elems))
	for i, eOrig := range elems {
		e, err := p.resolve(eOrig)
		if err != nil {
			return nil, err
		}
		if err := listElemError(e, eOrig, field, what, i); err != nil {
			return nil, err
		}
		out = append(out, item{text: e.Value, node: eOrig})
	}
	return out, nil
}

// listElemError checks that list element e is a non-empty scalar.
func listElemError(e, orig *yaml.Node, field, what string, i int) error {
	switch {
	case e.Kind == yaml.MappingNode:
		return errAt(orig, "%s[%d]: the %s was read as a YAML mapping because it contains ': ' (a colon and a space); put the whole %s in quotes", field, i, what, what)
	case e.Kind != yaml.ScalarNode:
		return errAt(orig, "%s[%d]: each %s must be a single string, but this one is %s", field, i, what, describe(e))
	case isNull(e) || strings.TrimSpace(e.Value) == "":
		return errAt(orig, "%s[%d]: the %s is empty; remove the '-' line or write the %s", field, i, what, what)
	}
	return nil
}

// unknownKey reports a key that is not allowed in field.
func unknownKey(e entry, field string, allowed ...string) error {
	msg := fmt.Sprintf("unknown key %q in %s", e.key, field)
	if s := suggest(e.key, allowed); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; allowed keys are " + strings.Join(allowed, ", ")
	}
	return errAt(e.keyNode, "%s", msg)
}

// suggest returns the allowed key closest to key when it is close enough to
// be a typo.
func suggest(key string, allowed []string) string {
	best, bestDist := "", len(key)/3+2
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	for _, a := range allowed {
		if d := editDistance(norm(key), norm(a)); d < bestDist {
			best, bestDist = a, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
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
