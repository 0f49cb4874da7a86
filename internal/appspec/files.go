package appspec

import (
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// files reads the files section (codedeploy.md §4.3). An empty section is
// allowed, as the agent reads it as no files.
func (p *parser) files(n *yaml.Node) error {
	items, err := sequence(n, "files", "a list of entries like \"- source: /\" with "+
		"\"destination: /var/www/html\" below it")
	if err != nil {
		return err
	}
	if isNull(n) {
		p.warn(n.Line, "files is empty, so nothing is copied; remove the files key if that is intended")
	}
	for _, item := range items {
		fm, err := p.fileMapping(item)
		if err != nil {
			return err
		}
		p.spec.Files = append(p.spec.Files, fm)
	}
	return nil
}

// fileMapping reads one files entry.
func (p *parser) fileMapping(n *yaml.Node) (FileMapping, error) {
	ps, err := mapping(n, "files entry", "\"- source: app\" with \"destination: /opt/app\" below it")
	if err != nil {
		return FileMapping{}, err
	}
	fm := FileMapping{Line: n.Line}
	rule := keyRule{where: "files entry", known: []string{"source", "destination"}}
	for _, kv := range ps {
		if err := p.fileKey(&fm, kv, rule); err != nil {
			return FileMapping{}, err
		}
	}
	switch {
	case fm.Source == "":
		return FileMapping{}, errAt(n.Line, "files entry has no source; add source: with "+
			"a path relative to the bundle root (/ copies the whole bundle)")
	case fm.Destination == "":
		return FileMapping{}, errAt(n.Line, "files entry for source %s has no destination; "+
			"add destination: with an absolute directory on the instance", quote(fm.Source))
	}
	return fm, nil
}

// fileKey reads one key of a files entry.
func (p *parser) fileKey(fm *FileMapping, kv pair, rule keyRule) error {
	switch kv.name {
	case "source":
		return p.source(fm, kv.value)
	case "destination":
		return p.destination(fm, kv.value)
	case "file_exists_behavior":
		return errAt(kv.key.Line, "file_exists_behavior belongs at the top level of the file "+
			"(no indentation, after the files list), not inside a files entry; the agent "+
			"ignores it here")
	}
	return p.unknown(kv, rule)
}

// source reads a files entry's source.
func (p *parser) source(fm *FileMapping, n *yaml.Node) error {
	v, err := scalar(n, "source", "source: / (the whole bundle) or source: app/config")
	if err != nil {
		return err
	}
	rel, err := bundlePath(v, p.spec.OS)
	if err != nil {
		return errAt(n.Line, "source %s %s", quote(v), err.Error())
	}
	fm.Source, fm.BundlePath = v, rel
	return nil
}

// destination reads a files entry's destination, which must be absolute.
func (p *parser) destination(fm *FileMapping, n *yaml.Node) error {
	v, err := scalar(n, "destination", "destination: /var/www/html")
	if err != nil {
		return err
	}
	if strings.ContainsRune(v, 0) {
		return errAt(n.Line, "destination contains a NUL character; remove it")
	}
	if !isAbsolute(v, p.spec.OS) {
		return errAt(n.Line, "destination %s is not an absolute path; files are copied to "+
			"a fully qualified directory on the instance, e.g. %s", quote(v), exampleDir(p.spec.OS))
	}
	fm.Destination = v
	return nil
}

// bundlePath cleans a path inside the bundle (a files source or a hook
// location) and returns it relative to the bundle root with forward
// slashes; "." is the bundle root. The agent joins the path to the
// deployment-archive directory, so a leading / (or \ on Windows) is the
// bundle root. The error text completes a sentence that starts with the
// path.
func bundlePath(v string, os OS) (string, error) {
	p := v
	if os == OSWindows {
		p = strings.ReplaceAll(p, `\`, "/")
		if hasDrive(p) {
			return "", pathError("is an absolute Windows path; give a path relative to the " +
				"bundle root, e.g. .\\scripts\\install.bat")
		}
	}
	if strings.ContainsRune(p, 0) {
		return "", pathError("contains a NUL character; remove it")
	}
	p = path.Clean(strings.TrimLeft(p, "/"))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", pathError("points outside the bundle (.. climbs above the bundle root); " +
			"give a path inside the bundle, relative to the directory that holds appspec.yml")
	}
	return p, nil
}

// pathError is the error text of bundlePath.
type pathError string

// Error returns the text.
func (e pathError) Error() string { return string(e) }

// isAbsolute reports whether v is an absolute path for os: /… on Linux;
// C:\…, C:/… or \\server\… on Windows.
func isAbsolute(v string, os OS) bool {
	if os == OSWindows {
		return hasDrive(strings.ReplaceAll(v, `\`, "/")) || strings.HasPrefix(v, `\\`)
	}
	return strings.HasPrefix(v, "/")
}

// hasDrive reports whether slash-separated p starts with a drive letter and
// a root, like c:/.
func hasDrive(p string) bool {
	if len(p) < 3 || p[1] != ':' || p[2] != '/' {
		return false
	}
	c := p[0] | 0x20
	return c >= 'a' && c <= 'z'
}

// exampleDir is an absolute directory for os, for messages.
func exampleDir(os OS) string {
	if os == OSWindows {
		return `c:\inetpub\wwwroot`
	}
	return "/var/www/html"
}
