package appspec

import "fmt"

// ParseError is a problem with an AppSpec file. Line is 1-based; it is 0
// when the problem is about the file as a whole (empty, too large, or a
// YAML error that has no position).
type ParseError struct {
	// Line is the 1-based line of the problem, or 0.
	Line int
	// Msg names the field, the problem and the fix.
	Msg string
}

// Error formats the error as "appspec.yml line N: msg".
func (e *ParseError) Error() string {
	if e.Line <= 0 {
		return DefaultFilename + ": " + e.Msg
	}
	return fmt.Sprintf("%s line %d: %s", DefaultFilename, e.Line, e.Msg)
}

// Code is the diagnostics error code the stock agent reports when it meets
// this error: a bad AppSpec file makes Install raise an exception that is
// not a ScriptError, which the agent reports as UnknownError (api.md §6.5).
func (e *ParseError) Code() DiagnosticCode { return DiagnosticUnknownError }

// errAt builds a *ParseError for line.
func errAt(line int, format string, args ...any) error {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// DiagnosticCode is the error_code of the diagnostics JSON the agent sends
// with PutHostCommandComplete (hook_executor.rb ScriptError; api.md §6.5).
// Only the codes that AppSpec handling produces are defined here.
type DiagnosticCode int

// Diagnostics codes for bad bundles.
const (
	// DiagnosticScriptMissing: a hook's location does not exist in the
	// bundle ("Script does not exist at specified location: <path>").
	DiagnosticScriptMissing DiagnosticCode = 1
	// DiagnosticUnknownError: the AppSpec file is missing or invalid. The
	// agent's Install (and a hook after DownloadBundle) raises a plain
	// exception, which is reported with code 5.
	DiagnosticUnknownError DiagnosticCode = 5
)

// LifecycleErrorCode returns the public API's LifecycleErrorCode for c
// (api.md §6.5: codes 0 to 5 map in order to Success, ScriptMissing,
// ScriptNotExecutable, ScriptTimedOut, ScriptFailed, UnknownError).
func (c DiagnosticCode) LifecycleErrorCode() string {
	if c == DiagnosticScriptMissing {
		return "ScriptMissing"
	}
	return "UnknownError"
}
