package buildspec

import (
	"context"
	"fmt"
	"strings"
)

// finish runs the step after POST_BUILD: it reads the exported variables,
// then, as CodeBuild's UPLOAD_ARTIFACTS phase, the reports and the
// artifact file lists. UPLOAD_ARTIFACTS is skipped when a failure ended
// the build early (the transitions from INSTALL and PRE_BUILD, or ABORT)
// and when the build timed out or was stopped.
func (b *build) finish(ctx context.Context) {
	if b.interrupted {
		b.res.Phases = append(b.res.Phases, PhaseResult{Type: PhaseUploadArtifacts, Status: StatusSkipped})
		return
	}
	b.res.ExportedVariables = b.exportedVariables()
	if b.aborted {
		b.res.Phases = append(b.res.Phases, PhaseResult{Type: PhaseUploadArtifacts, Status: StatusSkipped})
		return
	}
	pr := PhaseResult{Type: PhaseUploadArtifacts, Start: b.now(), Status: StatusSucceeded}
	b.logf("Entering phase %s", PhaseUploadArtifacts)
	b.collectReports()
	code := ""
	if err := b.collectArtifacts(ctx); err != nil {
		pr.Status, pr.Message, code = StatusFailed, b.log.red.redactString(err.Error()), "CLIENT_ERROR"
		b.fail(&BuildError{Status: StatusFailed, Phase: PhaseUploadArtifacts, ExitCode: -1, Msg: pr.Message})
	}
	pr.End = b.now()
	b.logf("Phase complete: %s State: %s", PhaseUploadArtifacts, pr.Status)
	b.logf("Phase context status code: %s Message: %s", code, pr.Message)
	b.res.Phases = append(b.res.Phases, pr)
}

// exportedVariables reads env.exported-variables from the session's final
// state. A variable that is not set exports as "". Secret values are
// redacted.
func (b *build) exportedVariables() map[string]string {
	if len(b.spec.Env.ExportedVariables) == 0 {
		return nil
	}
	out := make(map[string]string, len(b.spec.Env.ExportedVariables))
	for _, name := range b.spec.Env.ExportedVariables {
		v, _ := b.sess.value(name)
		out[name] = b.log.red.redactString(v)
	}
	return out
}

// collectReports parses the report groups and logs their counts.
func (b *build) collectReports() {
	if len(b.spec.Reports) == 0 {
		return
	}
	b.logf("Preparing to copy test report files")
	b.res.Reports = collectReports(b.srcDir, b.spec.Reports)
	for i := range b.res.Reports {
		rr := &b.res.Reports[i]
		rr.Err = b.log.red.redactString(rr.Err)
		b.logf("Report group %s (%s, %d file(s)): %s: %s", rr.Name, rr.Format, len(rr.Files), rr.Status, rr.Line())
	}
}

// collectArtifacts resolves the primary and secondary artifacts.
func (b *build) collectArtifacts(ctx context.Context) error {
	a := b.spec.Artifacts
	if a == nil {
		return nil
	}
	set, err := b.artifactSet(ctx, "", a.ArtifactSpec)
	if err != nil {
		return err
	}
	b.res.Artifacts = set
	for _, sec := range a.Secondary {
		set, err := b.artifactSet(ctx, sec.ID, sec.ArtifactSpec)
		if err != nil {
			return fmt.Errorf("secondary artifact %s: %w", sec.ID, err)
		}
		if b.res.SecondaryArtifacts == nil {
			b.res.SecondaryArtifacts = map[string]*ArtifactSet{}
		}
		b.res.SecondaryArtifacts[sec.ID] = set
	}
	return nil
}

// artifactSet resolves one artifact and logs what it found.
func (b *build) artifactSet(ctx context.Context, id string, spec ArtifactSpec) (*ArtifactSet, error) {
	base := spec.BaseDirectory
	if base == "" {
		base = "."
	}
	b.logf("Expanding base directory path: %s", base)
	b.logf("Assembling file list")
	for _, p := range spec.Files {
		b.logf("Expanding %s", p)
	}
	files, warnings, err := resolveArtifact(b.srcDir, spec)
	for _, w := range warnings {
		b.logf("%s", w)
	}
	if err != nil {
		return nil, err
	}
	b.logf("Found %d file(s)", len(files))
	return &ArtifactSet{ID: id, Name: b.artifactName(ctx, spec.Name), Files: files,
		EnableSymlinks: spec.EnableSymlinks, S3Prefix: spec.S3Prefix}, nil
}

// artifactName expands shell syntax in an artifact name with the final
// session state; on failure it keeps the name as written.
func (b *build) artifactName(ctx context.Context, name string) string {
	if !strings.ContainsAny(name, "$`") {
		return name
	}
	v, err := b.sess.expand(ctx, name)
	if err != nil {
		b.logf("Using the artifact name as written: %v", err)
		return name
	}
	return b.log.red.redactString(v)
}
