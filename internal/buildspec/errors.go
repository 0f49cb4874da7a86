package buildspec

import "fmt"

// ParseError is the error Parse returns. It names the line (and column) of
// the offending YAML node, the field, and what to change.
type ParseError struct {
	// Line is 1-based; 0 when the YAML library reported no position.
	Line int
	// Column is 1-based; 0 when unknown.
	Column int
	// Msg names the field and says what to fix.
	Msg string
}

// Error returns "buildspec.yml line N: msg".
func (e *ParseError) Error() string {
	if e.Line <= 0 {
		return "buildspec.yml: " + e.Msg
	}
	return fmt.Sprintf("buildspec.yml line %d: %s", e.Line, e.Msg)
}

// BuildError is the error Run returns when a build does not succeed. Its
// message follows CodeBuild's phase context messages, such as
// "Error while executing command: npm test. Reason: exit status 1".
type BuildError struct {
	// Status is the build status (FAILED, FAULT, TIMED_OUT or STOPPED).
	Status Status
	// Phase is the phase type that failed first ("BUILD"), empty when the
	// build failed before its first phase.
	Phase string
	// Command is the failing command, empty when no command failed.
	Command string
	// ExitCode is the failing command's exit code, -1 when it was killed
	// by a signal or when no command failed.
	ExitCode int
	// Msg is the full message.
	Msg string
}

// Error returns the CodeBuild-style message.
func (e *BuildError) Error() string { return e.Msg }

// commandFailure formats CodeBuild's COMMAND_EXECUTION_ERROR message.
func commandFailure(command, reason string) string {
	return fmt.Sprintf("Error while executing command: %s. Reason: %s", command, reason)
}
