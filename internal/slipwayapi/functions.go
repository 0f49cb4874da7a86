package slipwayapi

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

// Functions: what the FunctionName of a Lambda invoke action
// (Invoke/AWS/Lambda/1) names. A function is a command the server runs or
// an HTTP(S) endpoint it POSTs to, each time with the CodePipeline.job
// event; the function reports through the CodePipeline job API
// (docs/api-extensions.md, "Functions").

// FunctionOperations are the function operations (also in Operations).
var FunctionOperations = []string{
	"CreateFunction",
	"DeleteFunction",
	"GetFunction",
	"ListFunctions",
}

func init() {
	for _, op := range FunctionOperations {
		if !slices.Contains(Operations, op) {
			Operations = append(Operations, op)
		}
	}
	slices.Sort(Operations)
}

// ResourceConflictException: CreateFunction named a function that exists
// (Lambda's code for it).
const ResourceConflictException = "ResourceConflictException"

// Limits and defaults of the function operations.
const (
	// DefaultFunctionTimeout is a function's timeoutSeconds when absent
	// or 0; MaxFunctionTimeout is the largest (Lambda's limits).
	DefaultFunctionTimeout = 300
	MaxFunctionTimeout     = 900
	// MaxCommandArgs bounds the elements of a function's command, and
	// MaxCommandArgLength each element, in bytes.
	MaxCommandArgs      = 256
	MaxCommandArgLength = 4096
	// MaxFunctionEnvironmentSize bounds the environment's names and
	// values together, in bytes (Lambda's 4 KB).
	MaxFunctionEnvironmentSize = 4096
)

// Constraint patterns of the function operations.
const (
	// FunctionNamePattern is Lambda's function name pattern (the short
	// name; a Lambda action may also name a function by its ARN).
	FunctionNamePattern = `[a-zA-Z0-9_-]{1,64}`
	// EnvironmentNamePattern is what an environment variable name of a
	// function must match.
	EnvironmentNamePattern = `[a-zA-Z_][a-zA-Z0-9_]{0,127}`
)

var (
	functionNameRE = regexp.MustCompile(`^` + FunctionNamePattern + `$`)
	envNameRE      = regexp.MustCompile(`^` + EnvironmentNamePattern + `$`)
)

// ReservedEnvironmentNames are the variables the server sets for a
// command function's process; a function's environment may not set them,
// nor any name starting with "SLIPWAY_".
var ReservedEnvironmentNames = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CODEPIPELINE",
}

// Function is a Slipway function. Exactly one of Command and URL is set.
type Function struct {
	FunctionName string `json:"functionName"`
	// Command is the program and its arguments (no shell): the server
	// runs it for each invocation with the event on standard input and
	// in SLIPWAY_EVENT. A program name without a slash is looked up in
	// the server's PATH.
	Command []string `json:"command,omitempty"`
	// URL is an http:// or https:// endpoint the server POSTs the event
	// to for each invocation.
	URL string `json:"url,omitempty"`
	// TimeoutSeconds bounds one invocation: 1 to 900, default 300.
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`
	// Environment holds extra environment variables of a command's
	// process (names EnvironmentNamePattern, not reserved).
	Environment map[string]string `json:"environment,omitempty"`
	// Created is when the function was created (output only).
	Created *awsproto.Time `json:"created,omitempty"`
}

// Timeout returns TimeoutSeconds with the default applied.
func (f *Function) Timeout() int32 {
	if f.TimeoutSeconds == 0 {
		return DefaultFunctionTimeout
	}
	return f.TimeoutSeconds
}

// CreateFunctionInput is the input of CreateFunction.
type CreateFunctionInput struct {
	FunctionName   string            `json:"functionName"`
	Command        []string          `json:"command,omitempty"`
	URL            string            `json:"url,omitempty"`
	TimeoutSeconds int32             `json:"timeoutSeconds,omitempty"`
	Environment    map[string]string `json:"environment,omitempty"`
}

// Validate checks the input's constraints (ValidationException).
func (s *CreateFunctionInput) Validate() error {
	var v awsproto.Violations
	validFunctionName(&v, s.FunctionName)
	switch {
	case len(s.Command) == 0 && s.URL == "":
		v.Add("command", s.Command, "Member must be set when url is absent: give either command or url")
	case len(s.Command) > 0 && s.URL != "":
		v.Add("url", s.URL, "Member must be absent when command is given: give either command or url")
	}
	if len(s.Command) > MaxCommandArgs {
		v.Add("command", len(s.Command), fmt.Sprintf("Member must have length less than or equal to %d", MaxCommandArgs))
	}
	for i, a := range s.Command {
		switch {
		case i == 0 && a == "":
			v.Add("command[0]", a, "Member must name the program to run")
		case len(a) > MaxCommandArgLength:
			v.Add(fmt.Sprintf("command[%d]", i), len(a), fmt.Sprintf("Member must have length less than or equal to %d", MaxCommandArgLength))
		case strings.IndexByte(a, 0) >= 0:
			v.Add(fmt.Sprintf("command[%d]", i), a, "Member must not contain a NUL character")
		}
	}
	if s.URL != "" {
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s.URL) > MaxURLLength {
			v.Add("url", s.URL, fmt.Sprintf("Member must be an absolute http:// or https:// URL of at most %d characters", MaxURLLength))
		}
	}
	if s.TimeoutSeconds < 0 || s.TimeoutSeconds > MaxFunctionTimeout {
		v.Add("timeoutSeconds", s.TimeoutSeconds, fmt.Sprintf("Member must have value between 1 and %d (0 or absent: %d)", MaxFunctionTimeout, DefaultFunctionTimeout))
	}
	size := 0
	names := make([]string, 0, len(s.Environment))
	for name := range s.Environment {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		size += len(name) + len(s.Environment[name])
		switch {
		case !envNameRE.MatchString(name):
			v.Add("environment", name, "Member must have keys satisfying regular expression pattern: "+EnvironmentNamePattern)
		case strings.HasPrefix(name, "SLIPWAY_") || slices.Contains(ReservedEnvironmentNames, name):
			v.Add("environment", name, "Member must not set a reserved variable (SLIPWAY_*, "+strings.Join(ReservedEnvironmentNames, ", ")+")")
		case strings.IndexByte(s.Environment[name], 0) >= 0:
			v.Add("environment", name, "Member must have values without NUL characters")
		}
	}
	if size > MaxFunctionEnvironmentSize {
		v.Add("environment", size, fmt.Sprintf("Member must have names and values of at most %d bytes in all", MaxFunctionEnvironmentSize))
	}
	return v.Err()
}

// CreateFunctionOutput is the output of CreateFunction.
type CreateFunctionOutput struct {
	Function *Function `json:"function"`
}

// GetFunctionInput is the input of GetFunction.
type GetFunctionInput struct {
	FunctionName string `json:"functionName"`
}

// Validate checks the input's constraints (ValidationException).
func (s *GetFunctionInput) Validate() error {
	var v awsproto.Violations
	validFunctionName(&v, s.FunctionName)
	return v.Err()
}

// GetFunctionOutput is the output of GetFunction.
type GetFunctionOutput struct {
	Function *Function `json:"function"`
}

// ListFunctionsInput is the input of ListFunctions.
type ListFunctionsInput struct{}

// ListFunctionsOutput is the output of ListFunctions.
type ListFunctionsOutput struct {
	// Functions are ordered by name (byte-wise).
	Functions []Function `json:"functions"`
}

// DeleteFunctionInput is the input of DeleteFunction.
type DeleteFunctionInput struct {
	FunctionName string `json:"functionName"`
}

// Validate checks the input's constraints (ValidationException).
func (s *DeleteFunctionInput) Validate() error {
	var v awsproto.Violations
	validFunctionName(&v, s.FunctionName)
	return v.Err()
}

// DeleteFunctionOutput is the (empty) output of DeleteFunction.
type DeleteFunctionOutput struct{}

func validFunctionName(v *awsproto.Violations, name string) {
	switch {
	case name == "":
		v.Null("functionName")
	case !functionNameRE.MatchString(name):
		v.Add("functionName", name, "Member must satisfy regular expression pattern: "+FunctionNamePattern)
	}
}

// CreateFunction calls CreateFunction.
func (c *Client) CreateFunction(ctx context.Context, in *CreateFunctionInput) (*CreateFunctionOutput, error) {
	return call[CreateFunctionOutput](ctx, c, "CreateFunction", in)
}

// GetFunction calls GetFunction.
func (c *Client) GetFunction(ctx context.Context, in *GetFunctionInput) (*GetFunctionOutput, error) {
	return call[GetFunctionOutput](ctx, c, "GetFunction", in)
}

// ListFunctions calls ListFunctions.
func (c *Client) ListFunctions(ctx context.Context, in *ListFunctionsInput) (*ListFunctionsOutput, error) {
	if in == nil {
		in = &ListFunctionsInput{}
	}
	return call[ListFunctionsOutput](ctx, c, "ListFunctions", in)
}

// DeleteFunction calls DeleteFunction.
func (c *Client) DeleteFunction(ctx context.Context, in *DeleteFunctionInput) (*DeleteFunctionOutput, error) {
	return call[DeleteFunctionOutput](ctx, c, "DeleteFunction", in)
}
