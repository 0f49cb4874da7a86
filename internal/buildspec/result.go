package buildspec

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is a build or phase status, spelled as CodeBuild's StatusType.
type Status string

// Build and phase statuses. StatusSkipped is Slipway's: CodeBuild leaves
// phases it did not run out of the phase list.
const (
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
	StatusFault     Status = "FAULT"
	StatusTimedOut  Status = "TIMED_OUT"
	StatusStopped   Status = "STOPPED"
	StatusSkipped   Status = "SKIPPED"
)

// PhaseUploadArtifacts is the phase type of the artifact and report
// collection step that follows POST_BUILD.
const PhaseUploadArtifacts = "UPLOAD_ARTIFACTS"

// MaxSummary is the length limit of a CodePipeline execution summary,
// which Result.Summary respects.
const MaxSummary = 2048

// Result is the outcome of one build.
type Result struct {
	// Status is the build status.
	Status Status
	// Phases holds INSTALL, PRE_BUILD, BUILD, POST_BUILD and
	// UPLOAD_ARTIFACTS in order.
	Phases []PhaseResult
	// Err is the first failure's message ("" when the build succeeded).
	Err string
	// FailedPhase is the phase type of the first failure.
	FailedPhase string
	// FailedCommand is the first failing command.
	FailedCommand string
	// ExitCode is FailedCommand's exit code, -1 when it was killed by a
	// signal or when no command failed.
	ExitCode int
	// ExportedVariables holds the env.exported-variables values at the end
	// of the build; nil when the build timed out or was stopped.
	ExportedVariables map[string]string
	// Artifacts is the primary artifact's file list, nil without an
	// artifacts section or when artifacts were not collected.
	Artifacts *ArtifactSet
	// SecondaryArtifacts maps secondary artifact identifiers to their
	// file lists.
	SecondaryArtifacts map[string]*ArtifactSet
	// Reports holds one result per report group, in file order.
	Reports []ReportResult
	// LogTail is the last bytes (about 2 KB) of the redacted build log.
	LogTail string
	// Start and End bound the build.
	Start, End time.Time
}

// PhaseResult is the outcome of one phase.
type PhaseResult struct {
	// Type is the CodeBuild phase type ("BUILD").
	Type string
	// Status is the phase status.
	Status Status
	// Start and End bound the phase; zero for skipped phases.
	Start, End time.Time
	// Commands counts the commands (including finally) that ran.
	Commands int
	// Message is the phase context message for a failed phase.
	Message string
}

// ArtifactSet is the resolved file list of one artifact.
type ArtifactSet struct {
	// ID is "" for the primary artifact, else the secondary identifier.
	ID string
	// Name is the artifact name after shell expansion ("" when unnamed).
	Name string
	// Files are sorted by Dest.
	Files []ArtifactFile
	// EnableSymlinks is passed through from the buildspec: the packager
	// keeps symbolic links only when it is set.
	EnableSymlinks bool
	// S3Prefix is passed through from the buildspec.
	S3Prefix string
}

// ArtifactFile is one file of an artifact.
type ArtifactFile struct {
	// Source is the file's path relative to the source directory, with
	// forward slashes.
	Source string
	// Dest is the file's path inside the artifact, with forward slashes.
	Dest string
	// Symlink reports that Source is a symbolic link (kept as a link only
	// with enable-symlinks).
	Symlink bool
}

// Summary renders the result for an action execution summary: the status,
// the failure, the report counts and the log tail, at most MaxSummary
// bytes. The log tail is cut from the front when space runs out.
func (r *Result) Summary() string {
	var head strings.Builder
	fmt.Fprintf(&head, "Build %s", r.Status)
	if r.FailedPhase != "" {
		fmt.Fprintf(&head, " in phase %s", r.FailedPhase)
	}
	if r.Err != "" {
		fmt.Fprintf(&head, ": %s", r.Err)
	}
	head.WriteString("\n")
	for _, rep := range r.Reports {
		fmt.Fprintf(&head, "Report %s: %s\n", rep.Name, rep.Line())
	}
	s := head.String()
	if len(s) >= MaxSummary {
		return truncateUTF8(s, MaxSummary)
	}
	if r.LogTail == "" || r.Status == StatusSucceeded {
		return s
	}
	const sep = "--- log tail ---\n"
	room := MaxSummary - len(s) - len(sep)
	if room <= 0 {
		return s
	}
	return s + sep + tailLines(r.LogTail, room)
}

// tailLines returns the last at most n bytes of s, starting at a line
// boundary when the cut falls inside a line that is not the last.
func tailLines(s string, n int) string {
	if len(s) <= n {
		return s
	}
	t := tailUTF8(s, n)
	if i := strings.IndexByte(t, '\n'); i >= 0 && i < len(t)-1 {
		return t[i+1:]
	}
	return t
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// tailUTF8 returns the last at most n bytes of s without splitting a
// character.
func tailUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}
