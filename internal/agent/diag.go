package agent

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
)

// Diagnostics error codes (hook_executor.rb ScriptError; api.md §6.5).
const (
	CodeSucceeded           = 0
	CodeScriptMissing       = 1
	CodeScriptNotExecutable = 2
	CodeScriptTimedOut      = 3
	CodeScriptFailed        = 4
	CodeUnknownError        = 5
	CodeOutputsLeftOpen     = 6
	CodeFailedAfterRestart  = 7
)

// MsgFailedAfterRestart is the crash-recovery message (api.md §6.4).
const MsgFailedAfterRestart = "Failed: Failing in-progress lifecycle event after an agent restart."

// maxLogTail is the size of a diagnostics log tail (hook_executor.rb:21).
const maxLogTail = 2048

// maxPayload is the longest Envelope payload the model allows.
const maxPayload = 8192

// Diagnostics is the JSON payload of PutHostCommandComplete's Diagnostics
// envelope (Format "JSON").
type Diagnostics struct {
	ErrorCode  int    `json:"error_code"`
	ScriptName string `json:"script_name"`
	Message    string `json:"message"`
	Log        string `json:"log"`
}

// JSON encodes d, shortening the message so that the payload fits the
// model's 8192-character limit.
func (d Diagnostics) JSON() string {
	for {
		b, _ := json.Marshal(d)
		if len(b) <= maxPayload || (d.Message == "" && d.Log == "") {
			return string(b)
		}
		if len(d.Log) > 0 {
			d.Log = d.Log[len(d.Log)/2:]
		} else {
			d.Message = d.Message[:len(d.Message)/2]
		}
	}
}

// ScriptError is a failed command with a diagnostics error code. Errors of
// other types are reported with CodeUnknownError.
type ScriptError struct {
	Code       int
	ScriptName string
	Message    string
	Log        string
}

// Error returns the message.
func (e *ScriptError) Error() string { return e.Message }

// DiagnosticsFor returns the diagnostics PutHostCommandComplete sends for
// the outcome err of a command (api.md §6.5 step 4).
func DiagnosticsFor(err error) Diagnostics {
	if err == nil {
		return Diagnostics{ErrorCode: CodeSucceeded, Message: "Succeeded: "}
	}
	var se *ScriptError
	if errors.As(err, &se) {
		return Diagnostics{ErrorCode: se.Code, ScriptName: se.ScriptName, Message: se.Message, Log: se.Log}
	}
	return Diagnostics{ErrorCode: CodeUnknownError, Message: err.Error()}
}

// unknownError returns a ScriptError with CodeUnknownError.
func unknownError(msg string) *ScriptError {
	return &ScriptError{Code: CodeUnknownError, Message: msg}
}

// scriptLog keeps the newest log entries whose total length fits in
// maxLogTail characters (ScriptLog#append_to_log).
type scriptLog struct {
	mu      sync.Mutex
	entries []string
	size    int
}

func (l *scriptLog) append(entry string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(entry) > maxLogTail {
		entry = entry[len(entry)-maxLogTail:]
	}
	l.entries = append(l.entries, entry)
	l.size += len(entry)
	for l.size > maxLogTail && len(l.entries) > 0 {
		l.size -= len(l.entries[0])
		l.entries = l.entries[1:]
	}
}

func (l *scriptLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.entries, "")
}
