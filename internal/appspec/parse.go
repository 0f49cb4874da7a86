package appspec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// parser holds the spec being built.
type parser struct {
	spec *Spec
}

// warn records a Warning.
func (p *parser) warn(line int, format string, args ...any) {
	p.spec.Warnings = append(p.spec.Warnings, Warning{Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Parse parses and validates the contents of an AppSpec file for an
// EC2/on-premises deployment. Every error it returns is a *ParseError.
// Parse does no I/O.
func Parse(data []byte) (*Spec, error) {
	if len(data) > MaxSize {
		return nil, errAt(0, "the file is %d bytes; an AppSpec file may be at most %d bytes",
			len(data), MaxSize)
	}
	if err := checkIndentation(data); err != nil {
		return nil, err
	}
	top, err := decode(data)
	if err != nil {
		return nil, err
	}
	p := &parser{spec: &Spec{Hooks: map[Event][]Script{}}}
	if err := p.document(top); err != nil {
		return nil, err
	}
	return p.spec, nil
}

// checkIndentation rejects a tab in the indentation of a line. YAML forbids
// tabs there, and the YAML library's message for it ("found character that
// cannot start any token") does not say so.
func checkIndentation(data []byte) error {
	line := 0
	for rest := data; len(rest) > 0; {
		line++
		var cur []byte
		cur, rest, _ = bytes.Cut(rest, []byte("\n"))
		text := bytes.TrimLeft(cur, " \t")
		indent := cur[:len(cur)-len(text)]
		if bytes.IndexByte(indent, '\t') < 0 || len(bytes.TrimSpace(text)) == 0 || text[0] == '#' {
			continue
		}
		return errAt(line, "the indentation contains a tab character; YAML allows only "+
			"spaces for indentation, so replace the tab with spaces (two per level)")
	}
	return nil
}

// decode parses data as a single YAML document and returns its top node.
func decode(data []byte) (*yaml.Node, error) {
	doc, second, err := parseYAML(data)
	switch {
	case errors.Is(err, io.EOF):
		return nil, errEmpty()
	case err != nil:
		return nil, yamlError(data, err)
	case second > 0:
		return nil, errAt(second, "the file holds more than one YAML document (a --- "+
			"line starts a second one); an AppSpec file is a single document, so remove it")
	case len(doc.Content) == 0 || isNull(doc.Content[0]):
		return nil, errEmpty()
	}
	return doc.Content[0], nil
}

// parseYAML decodes the first YAML document of data and reports the line
// of a second document, if there is one. It returns io.EOF for a file
// without documents, and turns a panic of the YAML library into an error.
func parseYAML(data []byte) (doc *yaml.Node, second int, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, second, err = nil, 0, fmt.Errorf("yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first yaml.Node
	if err := dec.Decode(&first); err != nil {
		return nil, 0, err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
		return &first, 0, nil
	case err != nil:
		return nil, 0, err
	}
	return &first, max(next.Line, 1), nil
}

// errEmpty is the error for a file without content.
func errEmpty() error {
	return errAt(0, "the file is empty; an AppSpec file needs at least version: 0.0 and os: linux")
}

// yamlError turns a YAML syntax error into a *ParseError.
func yamlError(data []byte, err error) error {
	line, msg := splitYAMLError(err)
	if line > 0 {
		line = problemLine(data, line, msg)
	}
	return errAt(line, "the file is not valid YAML: %s; check the indentation and "+
		"that each colon and dash is followed by a space", msg)
}

// splitYAMLError splits the library's "yaml: line N: msg" into N and msg;
// N is 0 when the message has no line.
func splitYAMLError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0, msg
	}
	num, after, found := strings.Cut(rest, ": ")
	n, convErr := strconv.Atoi(num)
	if !found || convErr != nil {
		return 0, msg
	}
	return n, after
}

// problemLine's work is bounded: larger files keep the library's line.
const (
	maxRescanLines = 400
	maxRescanBytes = 32 << 10
)

// problemLine finds the line a YAML error is about. The library reports
// the line where the enclosing block starts (a list two lines up for a
// misaligned key), so the file is re-parsed one line longer at a time from
// there, and the first prefix that fails with the same message gives the
// line.
func problemLine(data []byte, from int, msg string) int {
	if len(data) > maxRescanBytes {
		return from
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxRescanLines {
		return from
	}
	end := 0
	for i, l := range lines {
		end += len(l)
		if i+1 < from {
			continue
		}
		if _, _, err := parseYAML(data[:end]); err != nil {
			if _, m := splitYAMLError(err); m == msg {
				return i + 1
			}
		}
	}
	return from
}

// document validates the top-level mapping.
func (p *parser) document(top *yaml.Node) error {
	if top.Kind != yaml.MappingNode {
		return errAt(top.Line, "the file must be a YAML mapping of keys such as version: 0.0 "+
			"and os: linux, but it is %s; check that this is an AppSpec file", describe(top))
	}
	ps, err := pairs(top, "top level")
	if err != nil {
		return err
	}
	keys := make(map[string]pair, len(ps))
	for _, kv := range ps {
		if err := checkTopKey(kv); err != nil {
			return err
		}
		keys[kv.name] = kv
	}
	if err := p.header(top, keys); err != nil {
		return err
	}
	for _, kv := range ps {
		if err := p.section(kv); err != nil {
			return err
		}
	}
	return nil
}

// header validates version and os, which the other sections depend on.
func (p *parser) header(top *yaml.Node, keys map[string]pair) error {
	v, ok := keys["version"]
	if !ok {
		return errAt(top.Line, "version is missing; add version: 0.0 at the top of the file")
	}
	if err := checkVersion(v.value); err != nil {
		return err
	}
	p.spec.Version = SupportedVersion
	o, ok := keys["os"]
	if !ok {
		return errAt(top.Line, "os is missing; add os: linux after the version line")
	}
	os, err := parseOS(o.value)
	if err != nil {
		return err
	}
	p.spec.OS, p.spec.OSLine = os, o.value.Line
	return nil
}

// section dispatches a top-level key to its parser.
func (p *parser) section(kv pair) error {
	switch kv.name {
	case "files":
		return p.files(kv.value)
	case "file_exists_behavior":
		return p.fileExistsBehavior(kv.value)
	case "permissions":
		return p.permissions(kv)
	case "hooks":
		return p.hooks(kv.value)
	}
	return nil // version and os are done by header
}

// checkTopKey rejects a top-level key that is not part of the format, with
// a hint for the usual causes: a typo, wrong indentation, or an ECS/Lambda
// AppSpec file.
func checkTopKey(kv pair) error {
	known := []string{"version", "os", "files", "file_exists_behavior", "permissions", "hooks"}
	for _, k := range known {
		if kv.name == k {
			return nil
		}
	}
	return errAt(kv.key.Line, "unknown top-level key %s; %s", keyName(kv.name), topKeyHint(kv.name, known))
}

// topKeyHint suggests the fix for an unknown top-level key.
func topKeyHint(name string, known []string) string {
	switch {
	case name == "resources":
		return "resources belongs to ECS and Lambda AppSpec files; an EC2/on-premises " +
			"file copies files with files and runs scripts with hooks"
	case Event(name).Scriptable() || Event(name).Reserved():
		return "lifecycle events go under hooks:, indented by two spaces"
	case name == "source" || name == "destination":
		return "source and destination belong to an entry under files:, written as " +
			"\"  - source: ...\" and \"    destination: ...\""
	case name == "location" || name == "timeout" || name == "runas":
		return name + " belongs to a script under a lifecycle event in hooks:"
	}
	if want := closest(name, known); want != "" {
		return "did you mean " + want + "?"
	}
	return "an EC2/on-premises AppSpec file has only " + strings.Join(known, ", ") +
		"; remove the key or fix its indentation"
}

// checkVersion accepts the values the agent accepts: a YAML number equal to
// 0.0 (application_specification.rb compares with [0.0].include?).
func checkVersion(n *yaml.Node) error {
	v, err := scalar(n, "version", "version: 0.0")
	if err != nil {
		return err
	}
	if isQuoted(n) {
		return errAt(n.Line, "version %s is quoted; the agent reads a quoted version as text "+
			"and rejects it, so write version: 0.0 without quotes", quote(v))
	}
	if !isZero(n.Tag, v) {
		return errAt(n.Line, "version %s is not supported; the only allowed value is 0.0, "+
			"so write version: 0.0", quote(v))
	}
	return nil
}

// isZero reports whether a plain YAML scalar is a number equal to zero.
func isZero(tag, v string) bool {
	switch tag {
	case "!!float":
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && f == 0
	case "!!int":
		i, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 0, 64)
		return err == nil && i == 0
	}
	return false
}

// parseOS reads the os key.
func parseOS(n *yaml.Node) (OS, error) {
	v, err := scalar(n, "os", "os: linux")
	if err != nil {
		return "", err
	}
	switch os := OS(v); {
	case os == OSLinux || os == OSWindows:
		return os, nil
	case strings.EqualFold(v, string(OSLinux)) || strings.EqualFold(v, string(OSWindows)):
		return "", errAt(n.Line, "os %s must be written in lower case: os: %s",
			quote(v), strings.ToLower(v))
	}
	return "", errAt(n.Line, "os %s is not supported; specify linux or windows "+
		"(Slipway agents run on Linux, so usually os: linux)", quote(v))
}

// fileExistsBehavior reads the top-level file_exists_behavior key. An
// empty value leaves it unset, as the agent treats nil.
func (p *parser) fileExistsBehavior(n *yaml.Node) error {
	if isNull(n) {
		p.warn(n.Line, "file_exists_behavior is empty and is ignored; give DISALLOW, "+
			"OVERWRITE or RETAIN, or remove the key")
		return nil
	}
	v, err := scalar(n, "file_exists_behavior", "file_exists_behavior: OVERWRITE")
	if err != nil {
		return err
	}
	b, err := parseFileExistsBehavior(v, n.Line)
	if err != nil {
		return err
	}
	p.spec.FileExistsBehavior = b
	return nil
}

// parseFileExistsBehavior checks a file_exists_behavior value.
func parseFileExistsBehavior(v string, line int) (FileExistsBehavior, error) {
	switch b := FileExistsBehavior(v); b {
	case FileExistsDisallow, FileExistsOverwrite, FileExistsRetain:
		return b, nil
	}
	switch strings.ToUpper(v) {
	case string(FileExistsDisallow), string(FileExistsOverwrite), string(FileExistsRetain):
		return "", errAt(line, "file_exists_behavior %s must be written in capitals: "+
			"file_exists_behavior: %s", quote(v), strings.ToUpper(v))
	}
	return "", errAt(line, "file_exists_behavior %s is not valid; use DISALLOW (fail the "+
		"deployment, the default), OVERWRITE or RETAIN", quote(v))
}
