package buildspec

import (
	"strings"
)

// reports parses the reports section.
func (p *parser) reports(e entry) ([]*ReportGroup, error) {
	entries, err := p.mapping(e.val, "reports")
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errAt(e.keyNode, "reports is empty; name at least one report group or remove the section")
	}
	out := make([]*ReportGroup, 0, len(entries))
	for _, re := range entries {
		g, err := p.reportGroup(re)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// reportGroup parses one report group.
func (p *parser) reportGroup(e entry) (*ReportGroup, error) {
	field := "reports." + e.key
	if strings.TrimSpace(e.key) == "" {
		return nil, errAt(e.keyNode, "reports: a report group needs a name")
	}
	entries, err := p.mapping(e.val, field)
	if err != nil {
		return nil, err
	}
	g := &ReportGroup{Name: e.key, Format: FormatJUnitXML, Line: e.keyNode.Line}
	for _, ge := range entries {
		switch ge.key {
		case "files":
			g.Files, err = p.patterns(ge.val, field+".files")
		case "base-directory":
			g.BaseDirectory, err = p.baseDirectory(ge.val, field+".base-directory")
		case "discard-paths":
			g.DiscardPaths, err = p.boolean(ge.val, field+".discard-paths")
		case "file-format":
			g.Format, err = p.reportFormat(ge, field)
		default:
			err = unknownKey(ge, field, "files", "base-directory", "discard-paths", "file-format")
		}
		if err != nil {
			return nil, err
		}
	}
	if len(g.Files) == 0 {
		return nil, errAt(e.keyNode, "%s.files is required; list the report files, for example '**/*.xml'", field)
	}
	return g, nil
}

// reportFormat parses a file-format value (case-insensitive, as in
// CodeBuild).
func (p *parser) reportFormat(e entry, field string) (ReportFormat, error) {
	v, err := p.scalar(e.val, field+".file-format")
	if err != nil {
		return "", err
	}
	switch f := ReportFormat(strings.ToUpper(v)); f {
	case FormatJUnitXML, FormatCucumberJSON:
		return f, nil
	case "NUNITXML", "NUNIT3XML", "TESTNGXML", "VISUALSTUDIOTRX", "CLOVERXML", "COBERTURAXML", "JACOCOXML", "SIMPLECOV":
		return "", errAt(e.val, "%s.file-format %s is a CodeBuild format Slipway cannot read yet; produce JUNITXML or CUCUMBERJSON reports", field, v)
	}
	return "", errAt(e.val, "%s.file-format %q is not a report format; use JUNITXML or CUCUMBERJSON", field, v)
}

// artifacts parses the artifacts section.
func (p *parser) artifacts(e entry) (*Artifacts, error) {
	a := &Artifacts{}
	sec, err := p.artifactSpec(e, "artifacts", &a.ArtifactSpec, true)
	if err != nil {
		return nil, err
	}
	a.Secondary = sec
	return a, nil
}

// artifactSpec parses an artifact block into spec. With primary set it
// also parses secondary-artifacts.
func (p *parser) artifactSpec(e entry, field string, spec *ArtifactSpec, primary bool) ([]SecondaryArtifact, error) {
	entries, err := p.mapping(e.val, field)
	if err != nil {
		return nil, err
	}
	spec.Line = e.keyNode.Line
	var secondary []SecondaryArtifact
	for _, ae := range entries {
		if ae.key == "secondary-artifacts" && primary {
			if secondary, err = p.secondaryArtifacts(ae); err != nil {
				return nil, err
			}
			continue
		}
		if err := p.artifactKey(ae, field, spec, primary); err != nil {
			return nil, err
		}
	}
	if len(spec.Files) == 0 {
		msg := "%s.files is required; list the files to keep, for example '**/*'"
		if primary && len(secondary) > 0 {
			msg = "%s.files is required even when only secondary-artifacts are used (as in CodeBuild)"
		}
		return nil, errAt(e.keyNode, msg, field)
	}
	return secondary, nil
}

// artifactKey parses one key of an artifact block.
func (p *parser) artifactKey(e entry, field string, spec *ArtifactSpec, primary bool) error {
	var err error
	switch e.key {
	case "files":
		spec.Files, err = p.patterns(e.val, field+".files")
	case "exclude-paths":
		spec.ExcludePaths, err = p.patterns(e.val, field+".exclude-paths")
	case "name":
		spec.Name, err = p.scalar(e.val, field+".name")
	case "discard-paths":
		spec.DiscardPaths, err = p.boolean(e.val, field+".discard-paths")
	case "base-directory":
		spec.BaseDirectory, err = p.baseDirectory(e.val, field+".base-directory")
	case "enable-symlinks":
		spec.EnableSymlinks, err = p.boolean(e.val, field+".enable-symlinks")
	case "s3-prefix":
		spec.S3Prefix, err = p.scalar(e.val, field+".s3-prefix")
	case "type":
		_, err = p.scalar(e.val, field+".type")
		p.note(e, field+".type is ignored: it was deprecated in buildspec version 0.2; artifacts are always zipped")
	default:
		allowed := []string{"files", "name", "discard-paths", "base-directory", "exclude-paths", "enable-symlinks", "s3-prefix"}
		if primary {
			allowed = append(allowed, "secondary-artifacts")
		}
		err = unknownKey(e, field, allowed...)
	}
	return err
}

// secondaryArtifacts parses artifacts.secondary-artifacts.
func (p *parser) secondaryArtifacts(e entry) ([]SecondaryArtifact, error) {
	entries, err := p.mapping(e.val, "artifacts.secondary-artifacts")
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errAt(e.keyNode, "artifacts.secondary-artifacts is empty; add an artifact identifier or remove the key")
	}
	out := make([]SecondaryArtifact, 0, len(entries))
	for _, se := range entries {
		if !isArtifactID(se.key) {
			return nil, errAt(se.keyNode, "artifacts.secondary-artifacts: %q is not a valid artifact identifier; use letters, digits, '-' and '_'", se.key)
		}
		sa := SecondaryArtifact{ID: se.key}
		if _, err := p.artifactSpec(se, "artifacts.secondary-artifacts."+se.key, &sa.ArtifactSpec, false); err != nil {
			return nil, err
		}
		out = append(out, sa)
	}
	return out, nil
}

// isArtifactID reports whether s can name an artifact (CodePipeline's
// artifact name pattern [a-zA-Z0-9_\-]+).
func isArtifactID(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
