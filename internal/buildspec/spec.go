package buildspec

import "strings"

// Version is the only buildspec version Slipway runs.
const Version = "0.2"

// PhaseName names one of the four buildspec phases, spelled as in the
// buildspec file.
type PhaseName string

// The buildspec phases, in the order they run.
const (
	PhaseInstall   PhaseName = "install"
	PhasePreBuild  PhaseName = "pre_build"
	PhaseBuild     PhaseName = "build"
	PhasePostBuild PhaseName = "post_build"
)

// PhaseOrder returns the buildspec phases in the order they run.
func PhaseOrder() [4]PhaseName {
	return [4]PhaseName{PhaseInstall, PhasePreBuild, PhaseBuild, PhasePostBuild}
}

// Type returns the phase as CodeBuild's BuildPhase.phaseType spells it
// ("INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD").
func (n PhaseName) Type() string { return strings.ToUpper(string(n)) }

// OnFailure is a phase's on-failure setting.
type OnFailure string

// The on-failure values Slipway accepts. The empty value means the key was
// not given, and the phase transitions of the CodeBuild user guide apply.
const (
	OnFailureDefault  OnFailure = ""
	OnFailureAbort    OnFailure = "ABORT"
	OnFailureContinue OnFailure = "CONTINUE"
)

// ReportFormat is a report group's file-format.
type ReportFormat string

// The report file formats Slipway parses.
const (
	FormatJUnitXML     ReportFormat = "JUNITXML"
	FormatCucumberJSON ReportFormat = "CUCUMBERJSON"
)

// Spec is a parsed and validated buildspec.
type Spec struct {
	// Version is always "0.2".
	Version string
	// RunAs is the top-level run-as user. Slipway accepts and ignores it
	// (see Notes).
	RunAs string
	// Env is the env section.
	Env Env
	// Phases holds the phases the file declares, in run order.
	Phases []*Phase
	// Reports holds the report groups in file order.
	Reports []*ReportGroup
	// Artifacts is the artifacts section, nil when the file has none.
	Artifacts *Artifacts
	// Notes lists the keys that CodeBuild accepts and Slipway ignores, one
	// note per key found, for the build log.
	Notes []Note
}

// Phase returns the phase called name, or nil when the file does not
// declare it.
func (s *Spec) Phase(name PhaseName) *Phase {
	for _, p := range s.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Note is an informational message about a key Slipway accepts but ignores.
type Note struct {
	// Line is the 1-based line of the key.
	Line int
	// Msg says what was ignored and why.
	Msg string
}

// Env is the env section of a buildspec.
type Env struct {
	// Shell is env.shell as written ("" when absent): bash, sh or /bin/sh.
	Shell string
	// Variables are the plain-text variables in file order.
	Variables []Var
	// ParameterStore maps variable names to parameter names, in file order.
	// Slipway resolves them through Runner.Secrets.
	ParameterStore []Var
	// SecretsManager holds the secrets-manager references in file order.
	SecretsManager []SecretRef
	// ExportedVariables lists the variables whose values at the end of the
	// build become the action's output variables.
	ExportedVariables []string
	// GitCredentialHelper is env.git-credential-helper. Slipway accepts and
	// ignores it.
	GitCredentialHelper bool
}

// Var is one name/value pair of a buildspec mapping.
type Var struct {
	// Name is the key (a variable or runtime name).
	Name string
	// Value is the value exactly as written.
	Value string
	// Line is the 1-based line of the name.
	Line int
}

// SecretRef is one env.secrets-manager entry:
// NAME: secret-id:json-key:version-stage:version-id.
type SecretRef struct {
	// Name is the environment variable to set.
	Name string
	// SecretID is the secret's name or ARN.
	SecretID string
	// JSONKey, when set, selects one key of a JSON secret.
	JSONKey string
	// VersionStage is empty or AWSCURRENT; Slipway secrets are not
	// versioned.
	VersionStage string
	// Line is the 1-based line of the entry.
	Line int
}

// Phase is one phase of the phases section.
type Phase struct {
	// Name is the phase name.
	Name PhaseName
	// RunAs is the phase's run-as user. Slipway accepts and ignores it.
	RunAs string
	// OnFailure is the phase's on-failure setting.
	OnFailure OnFailure
	// RuntimeVersions is install.runtime-versions. Slipway accepts and
	// ignores it, as CodeBuild does on images without runtime selection.
	RuntimeVersions []Var
	// Commands run in order; the first failure skips the rest.
	Commands []Command
	// Finally runs after Commands whatever happened.
	Finally []Command
	// Line is the 1-based line of the phase key.
	Line int
}

// Command is one shell command of a phase.
type Command struct {
	// Text is the command exactly as the shell receives it.
	Text string
	// Line is the 1-based line of the command.
	Line int
}

// ReportGroup is one entry of the reports section.
type ReportGroup struct {
	// Name is the report group name or ARN.
	Name string
	// Files are the glob patterns, relative to BaseDirectory.
	Files []string
	// BaseDirectory is relative to the source directory ("" for the root).
	BaseDirectory string
	// DiscardPaths is reports.<group>.discard-paths.
	DiscardPaths bool
	// Format is the file-format; JUNITXML when not given.
	Format ReportFormat
	// Line is the 1-based line of the group name.
	Line int
}

// ArtifactSpec is the shared shape of the primary and the secondary
// artifacts.
type ArtifactSpec struct {
	// Files are the glob patterns, relative to BaseDirectory.
	Files []string
	// Name is the artifact name as written; it may use shell expansions
	// such as $(date +%Y-%m-%d), evaluated at the end of the build.
	Name string
	// DiscardPaths flattens the artifact: every file lands at its root.
	DiscardPaths bool
	// BaseDirectory is relative to the source directory ("" for the root)
	// and may be a glob matching several directories.
	BaseDirectory string
	// ExcludePaths are glob patterns, relative to BaseDirectory, of files
	// (or directories) to leave out.
	ExcludePaths []string
	// EnableSymlinks asks the packager to keep symbolic links in the zip.
	EnableSymlinks bool
	// S3Prefix is passed through to the packager.
	S3Prefix string
	// Line is the 1-based line of the section.
	Line int
}

// Artifacts is the artifacts section.
type Artifacts struct {
	ArtifactSpec
	// Secondary holds the secondary-artifacts in file order.
	Secondary []SecondaryArtifact
}

// SecondaryArtifact is one entry of artifacts.secondary-artifacts.
type SecondaryArtifact struct {
	// ID is the artifact identifier.
	ID string
	ArtifactSpec
}
