package slipwayapi

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

// BuildOperations are the operations of the build projects, secrets and
// action logs (docs/api-extensions.md, "Builds"); they are part of
// Operations.
var BuildOperations = []string{
	"CreateBuildProject",
	"DeleteBuildProject",
	"DeleteSecret",
	"GetActionLog",
	"GetBuildProject",
	"ListBuildProjects",
	"ListSecrets",
	"PutSecret",
	"UpdateBuildProject",
}

func init() {
	for _, op := range BuildOperations {
		if !slices.Contains(Operations, op) {
			Operations = append(Operations, op)
		}
	}
	slices.Sort(Operations)
}

// ResourceAlreadyExistsException: CreateBuildProject named a project that
// exists.
const ResourceAlreadyExistsException = "ResourceAlreadyExistsException"

// Environment variable types of build projects. SECRET (and, for pipeline
// definitions written for CodeBuild, PARAMETER_STORE and SECRETS_MANAGER)
// takes the value as the name of a Slipway secret (PutSecret), resolved
// when the build starts and redacted from its log.
const (
	EnvTypePlaintext      = "PLAINTEXT"
	EnvTypeSecret         = "SECRET"
	EnvTypeParameterStore = "PARAMETER_STORE"
	EnvTypeSecretsManager = "SECRETS_MANAGER"
)

// EnvTypes lists the accepted environment variable types.
var EnvTypes = []string{EnvTypePlaintext, EnvTypeSecret, EnvTypeParameterStore, EnvTypeSecretsManager}

// Limits and defaults of the build operations.
const (
	// DefaultBuildspecPath is where a project without an inline buildspec
	// finds it, relative to the primary source's root.
	DefaultBuildspecPath = "buildspec.yml"
	// DefaultBuildTimeout is a project's timeoutInMinutes when absent or 0.
	DefaultBuildTimeout = 60
	// MinBuildTimeout and MaxBuildTimeout bound timeoutInMinutes.
	MinBuildTimeout = 5
	MaxBuildTimeout = 480
	// MaxBuildspecLength bounds an inline buildspec, in characters.
	MaxBuildspecLength = 65536
	// MaxProjectVariables bounds a project's environment variables.
	MaxProjectVariables = 100
	// MaxVariableValueLength bounds an environment variable's value.
	MaxVariableValueLength = 32768
	// MaxWorkerLabels bounds a project's worker labels.
	MaxWorkerLabels = 10
	// MaxSecretValueLength bounds a secret's value, in bytes.
	MaxSecretValueLength = 65536
	// DefaultMaxChunks is how many chunks GetActionLog returns when
	// maxChunks is absent or 0; MaxMaxChunks is the largest maxChunks.
	DefaultMaxChunks = 100
	MaxMaxChunks     = 1000
)

// Constraint patterns of the build operations.
const (
	// ProjectNamePattern is CodeBuild's project name pattern.
	ProjectNamePattern = `[A-Za-z0-9][A-Za-z0-9\-_]{1,254}`
	// SecretNamePattern admits Secrets Manager secret names and Parameter
	// Store parameter names (paths such as /prod/db/password).
	SecretNamePattern = `[A-Za-z0-9/_+=.@\-]{1,512}`
	// VariableNamePattern is a shell variable name.
	VariableNamePattern = `[A-Za-z_][A-Za-z0-9_]{0,254}`
	// WorkerLabelPattern is what a worker label must match.
	WorkerLabelPattern = `[A-Za-z0-9_.\-]{1,64}`
	// ActionExecutionIDPattern is what an action execution ID must match.
	ActionExecutionIDPattern = `[A-Za-z0-9\-]{1,200}`
)

var (
	projectNameRE = regexp.MustCompile(`^` + ProjectNamePattern + `$`)
	secretNameRE  = regexp.MustCompile(`^` + SecretNamePattern + `$`)
	varNameRE     = regexp.MustCompile(`^` + VariableNamePattern + `$`)
	labelRE       = regexp.MustCompile(`^` + WorkerLabelPattern + `$`)
	actionExecRE  = regexp.MustCompile(`^` + ActionExecutionIDPattern + `$`)
)

// BuildEnvironmentVariable is one environment variable of a build project.
type BuildEnvironmentVariable struct {
	// Name is a shell variable name, not starting with CODEBUILD_.
	Name string `json:"name"`
	// Value is the value (PLAINTEXT) or the name of a Slipway secret.
	Value string `json:"value"`
	// Type is PLAINTEXT (the default), SECRET, PARAMETER_STORE or
	// SECRETS_MANAGER; the last three name a Slipway secret, and a
	// SECRETS_MANAGER value may be "name:json-key" to select one key of
	// a JSON secret.
	Type string `json:"type,omitempty"`
}

// BuildProject is a build project: what a CodeBuild action whose
// ProjectName names it runs.
type BuildProject struct {
	// Name matches [A-Za-z0-9][A-Za-z0-9\-_]{1,254}.
	Name string `json:"name"`
	// Description is free text, at most 255 characters.
	Description string `json:"description,omitempty"`
	// Buildspec is an inline buildspec (YAML, version 0.2). Exclusive
	// with BuildspecPath.
	Buildspec string `json:"buildspec,omitempty"`
	// BuildspecPath is the buildspec's path relative to the primary
	// source's root; "buildspec.yml" when neither it nor Buildspec is set.
	BuildspecPath string `json:"buildspecPath,omitempty"`
	// EnvironmentVariables are set for every build; a CodeBuild action's
	// EnvironmentVariables configuration overrides them by name.
	EnvironmentVariables []BuildEnvironmentVariable `json:"environmentVariables,omitempty"`
	// TimeoutInMinutes bounds a build: 5 to 480, 60 when absent or 0.
	TimeoutInMinutes int32 `json:"timeoutInMinutes,omitempty"`
	// WorkerLabels are the labels a worker must all have to run the
	// project's builds (at most 10 of [A-Za-z0-9_.\-]{1,64}); none: any
	// worker.
	WorkerLabels []string `json:"workerLabels,omitempty"`
	// Created and Updated are set by the server (output only).
	Created *awsproto.Time `json:"created,omitempty"`
	Updated *awsproto.Time `json:"updated,omitempty"`
}

// Normalize fills in the defaults: the buildspec path when there is no
// inline buildspec, the timeout, and PLAINTEXT variable types.
func (p *BuildProject) Normalize() {
	if p.Buildspec == "" && p.BuildspecPath == "" {
		p.BuildspecPath = DefaultBuildspecPath
	}
	if p.TimeoutInMinutes == 0 {
		p.TimeoutInMinutes = DefaultBuildTimeout
	}
	for i := range p.EnvironmentVariables {
		if p.EnvironmentVariables[i].Type == "" {
			p.EnvironmentVariables[i].Type = EnvTypePlaintext
		}
	}
}

// validate checks a project's constraints.
func (p *BuildProject) validate(v *awsproto.Violations) {
	validateProjectName(v, "name", p.Name)
	if utf8.RuneCountInString(p.Description) > 255 {
		v.Add("description", p.Description, "Member must have length less than or equal to 255")
	}
	switch {
	case p.Buildspec != "" && p.BuildspecPath != "":
		v.Add("buildspecPath", p.BuildspecPath, "Member must be absent when buildspec is set: a project has either an inline buildspec or a buildspec path")
	case utf8.RuneCountInString(p.Buildspec) > MaxBuildspecLength:
		v.Add("buildspec", p.Buildspec, fmt.Sprintf("Member must have length less than or equal to %d", MaxBuildspecLength))
	case p.BuildspecPath != "":
		if problem := checkRelPath(p.BuildspecPath); problem != "" {
			v.Add("buildspecPath", p.BuildspecPath, problem)
		}
	}
	if len(p.EnvironmentVariables) > MaxProjectVariables {
		v.Add("environmentVariables", len(p.EnvironmentVariables), fmt.Sprintf("Member must have length less than or equal to %d", MaxProjectVariables))
	}
	seen := map[string]bool{}
	for i, ev := range p.EnvironmentVariables {
		at := awsproto.Index("environmentVariables", i)
		validateVariable(v, at, ev)
		if seen[ev.Name] {
			v.Add(awsproto.Join(at, "name"), ev.Name, "Member must be unique: the project defines this variable twice")
		}
		seen[ev.Name] = true
	}
	if p.TimeoutInMinutes != 0 && (p.TimeoutInMinutes < MinBuildTimeout || p.TimeoutInMinutes > MaxBuildTimeout) {
		v.Add("timeoutInMinutes", p.TimeoutInMinutes, fmt.Sprintf("Member must have value between %d and %d", MinBuildTimeout, MaxBuildTimeout))
	}
	if len(p.WorkerLabels) > MaxWorkerLabels {
		v.Add("workerLabels", len(p.WorkerLabels), fmt.Sprintf("Member must have length less than or equal to %d", MaxWorkerLabels))
	}
	for i, l := range p.WorkerLabels {
		if !labelRE.MatchString(l) {
			v.Add(awsproto.Index("workerLabels", i), l, "Member must satisfy regular expression pattern: "+WorkerLabelPattern)
		}
	}
}

// ValidateVariable checks one environment variable as a project's (and a
// CodeBuild action's EnvironmentVariables) must be; it returns the
// problem or "".
func ValidateVariable(ev BuildEnvironmentVariable) string {
	var v awsproto.Violations
	validateVariable(&v, "environmentVariable", ev)
	if err := v.Err(); err != nil {
		return err.Error()
	}
	return ""
}

func validateVariable(v *awsproto.Violations, at string, ev BuildEnvironmentVariable) {
	switch {
	case ev.Name == "":
		v.Null(awsproto.Join(at, "name"))
	case !varNameRE.MatchString(ev.Name):
		v.Add(awsproto.Join(at, "name"), ev.Name, "Member must satisfy regular expression pattern: "+VariableNamePattern)
	case strings.HasPrefix(strings.ToUpper(ev.Name), "CODEBUILD_"):
		v.Add(awsproto.Join(at, "name"), ev.Name, "Member must not start with CODEBUILD_, which is reserved for the build's own variables")
	}
	if utf8.RuneCountInString(ev.Value) > MaxVariableValueLength {
		v.Add(awsproto.Join(at, "value"), ev.Value, fmt.Sprintf("Member must have length less than or equal to %d", MaxVariableValueLength))
	}
	if ev.Type != "" && !slices.Contains(EnvTypes, ev.Type) {
		v.Add(awsproto.Join(at, "type"), ev.Type, "Member must satisfy enum value set: ["+strings.Join(EnvTypes, ", ")+"]")
	}
	if ev.Type != "" && ev.Type != EnvTypePlaintext {
		name, _, _ := strings.Cut(ev.Value, ":")
		if ev.Type != EnvTypeSecretsManager {
			name = ev.Value
		}
		if !strings.HasPrefix(ev.Value, "arn:") && !secretNameRE.MatchString(name) {
			v.Add(awsproto.Join(at, "value"), ev.Value, "Member must name a secret: "+SecretNamePattern)
		}
	}
}

// checkRelPath returns what is wrong with a path inside the source, or "".
func checkRelPath(p string) string {
	switch {
	case utf8.RuneCountInString(p) > 1024:
		return "Member must have length less than or equal to 1024"
	case strings.HasPrefix(p, "/") || strings.Contains(p, `\`) || strings.IndexByte(p, 0) >= 0:
		return "Member must be a relative path with forward slashes"
	case path.Clean(p) != p || p == "." || strings.HasPrefix(p, "../") || p == "..":
		return "Member must be a clean relative path inside the source (no '.', '..' or empty segments)"
	}
	return ""
}

func validateProjectName(v *awsproto.Violations, at, name string) {
	switch {
	case name == "":
		v.Null(at)
	case !projectNameRE.MatchString(name):
		v.Add(at, name, "Member must satisfy regular expression pattern: "+ProjectNamePattern)
	}
}

func validateSecretName(v *awsproto.Violations, at, name string) {
	switch {
	case name == "":
		v.Null(at)
	case !secretNameRE.MatchString(name):
		v.Add(at, name, "Member must satisfy regular expression pattern: "+SecretNamePattern)
	}
}

// CreateBuildProjectInput is the input of CreateBuildProject: the project.
type CreateBuildProjectInput struct {
	BuildProject
}

// Validate checks the input's constraints (ValidationException).
func (s *CreateBuildProjectInput) Validate() error {
	var v awsproto.Violations
	s.validate(&v)
	return v.Err()
}

// CreateBuildProjectOutput is the output of CreateBuildProject.
type CreateBuildProjectOutput struct {
	Project *BuildProject `json:"project"`
}

// UpdateBuildProjectInput is the input of UpdateBuildProject: the whole
// project, which replaces the stored one (members not sent take their
// defaults).
type UpdateBuildProjectInput struct {
	BuildProject
}

// Validate checks the input's constraints (ValidationException).
func (s *UpdateBuildProjectInput) Validate() error {
	var v awsproto.Violations
	s.validate(&v)
	return v.Err()
}

// UpdateBuildProjectOutput is the output of UpdateBuildProject.
type UpdateBuildProjectOutput struct {
	Project *BuildProject `json:"project"`
}

// GetBuildProjectInput is the input of GetBuildProject.
type GetBuildProjectInput struct {
	Name string `json:"name"`
}

// Validate checks the input's constraints (ValidationException).
func (s *GetBuildProjectInput) Validate() error {
	var v awsproto.Violations
	validateProjectName(&v, "name", s.Name)
	return v.Err()
}

// GetBuildProjectOutput is the output of GetBuildProject.
type GetBuildProjectOutput struct {
	Project *BuildProject `json:"project"`
}

// ListBuildProjectsInput is the input of ListBuildProjects.
type ListBuildProjectsInput struct{}

// ListBuildProjectsOutput is the output of ListBuildProjects.
type ListBuildProjectsOutput struct {
	// Projects are ordered by name (byte-wise).
	Projects []BuildProject `json:"projects"`
}

// DeleteBuildProjectInput is the input of DeleteBuildProject.
type DeleteBuildProjectInput struct {
	Name string `json:"name"`
}

// Validate checks the input's constraints (ValidationException).
func (s *DeleteBuildProjectInput) Validate() error {
	var v awsproto.Violations
	validateProjectName(&v, "name", s.Name)
	return v.Err()
}

// DeleteBuildProjectOutput is the (empty) output of DeleteBuildProject.
type DeleteBuildProjectOutput struct{}

// Secret is a secret as the API shows it: never its value.
type Secret struct {
	Name    string         `json:"name"`
	Created *awsproto.Time `json:"created,omitempty"`
	Updated *awsproto.Time `json:"updated,omitempty"`
}

// PutSecretInput is the input of PutSecret: creates the secret or
// replaces its value.
type PutSecretInput struct {
	// Name matches [A-Za-z0-9/_+=.@\-]{1,512}.
	Name string `json:"name"`
	// Value is 1 to 65536 bytes; it is stored sealed and never returned.
	Value string `json:"value"`
}

// Validate checks the input's constraints (ValidationException). The
// value is never repeated in a message.
func (s *PutSecretInput) Validate() error {
	var v awsproto.Violations
	validateSecretName(&v, "name", s.Name)
	switch {
	case s.Value == "":
		v.Null("value")
	case len(s.Value) > MaxSecretValueLength:
		v.Add("value", SecretMask, fmt.Sprintf("Member must have length less than or equal to %d bytes", MaxSecretValueLength))
	}
	return v.Err()
}

// PutSecretOutput is the output of PutSecret.
type PutSecretOutput struct {
	Secret *Secret `json:"secret"`
}

// DeleteSecretInput is the input of DeleteSecret.
type DeleteSecretInput struct {
	Name string `json:"name"`
}

// Validate checks the input's constraints (ValidationException).
func (s *DeleteSecretInput) Validate() error {
	var v awsproto.Violations
	validateSecretName(&v, "name", s.Name)
	return v.Err()
}

// DeleteSecretOutput is the (empty) output of DeleteSecret.
type DeleteSecretOutput struct{}

// ListSecretsInput is the input of ListSecrets.
type ListSecretsInput struct{}

// ListSecretsOutput is the output of ListSecrets.
type ListSecretsOutput struct {
	// Secrets are ordered by name (byte-wise), without values.
	Secrets []Secret `json:"secrets"`
}

// GetActionLogInput is the input of GetActionLog.
type GetActionLogInput struct {
	// ActionExecutionID is the action execution whose log to read (as
	// ListActionExecutions and GetPipelineState show it).
	ActionExecutionID string `json:"actionExecutionId"`
	// AfterSeq selects chunks with a greater sequence number: 0 (or
	// absent) from the start, else the nextSeq of a previous call.
	AfterSeq int64 `json:"afterSeq,omitempty"`
	// MaxChunks bounds the chunks returned: 1 to 1000; 0 or absent means
	// 100.
	MaxChunks int32 `json:"maxChunks,omitempty"`
}

// Validate checks the input's constraints (ValidationException).
func (s *GetActionLogInput) Validate() error {
	var v awsproto.Violations
	switch {
	case s.ActionExecutionID == "":
		v.Null("actionExecutionId")
	case !actionExecRE.MatchString(s.ActionExecutionID):
		v.Add("actionExecutionId", s.ActionExecutionID, "Member must satisfy regular expression pattern: "+ActionExecutionIDPattern)
	}
	if s.AfterSeq < 0 {
		v.Add("afterSeq", s.AfterSeq, "Member must have value greater than or equal to 0")
	}
	if s.MaxChunks < 0 {
		v.Add("maxChunks", s.MaxChunks, "Member must have value greater than or equal to 1")
	}
	if s.MaxChunks > MaxMaxChunks {
		v.Add("maxChunks", s.MaxChunks, fmt.Sprintf("Member must have value less than or equal to %d", MaxMaxChunks))
	}
	return v.Err()
}

// LogChunk is one piece of an action's log.
type LogChunk struct {
	// Seq numbers the chunks of one action execution from 1.
	Seq int64 `json:"seq"`
	// Time is when the server stored the chunk.
	Time *awsproto.Time `json:"time,omitempty"`
	// Data is the text (bytes that are not UTF-8 show as U+FFFD).
	Data string `json:"data"`
}

// GetActionLogOutput is the output of GetActionLog.
type GetActionLogOutput struct {
	Chunks []LogChunk `json:"chunks"`
	// NextSeq is the afterSeq of the next call: the last chunk's seq, or
	// the request's afterSeq when none was returned.
	NextSeq int64 `json:"nextSeq"`
	// Complete is true once the action has ended and this call read its
	// log to the end: no chunk will follow nextSeq.
	Complete bool `json:"complete"`
}

// CreateBuildProject calls CreateBuildProject.
func (c *Client) CreateBuildProject(ctx context.Context, in *CreateBuildProjectInput) (*CreateBuildProjectOutput, error) {
	return call[CreateBuildProjectOutput](ctx, c, "CreateBuildProject", in)
}

// UpdateBuildProject calls UpdateBuildProject.
func (c *Client) UpdateBuildProject(ctx context.Context, in *UpdateBuildProjectInput) (*UpdateBuildProjectOutput, error) {
	return call[UpdateBuildProjectOutput](ctx, c, "UpdateBuildProject", in)
}

// GetBuildProject calls GetBuildProject.
func (c *Client) GetBuildProject(ctx context.Context, in *GetBuildProjectInput) (*GetBuildProjectOutput, error) {
	return call[GetBuildProjectOutput](ctx, c, "GetBuildProject", in)
}

// ListBuildProjects calls ListBuildProjects.
func (c *Client) ListBuildProjects(ctx context.Context, in *ListBuildProjectsInput) (*ListBuildProjectsOutput, error) {
	if in == nil {
		in = &ListBuildProjectsInput{}
	}
	return call[ListBuildProjectsOutput](ctx, c, "ListBuildProjects", in)
}

// DeleteBuildProject calls DeleteBuildProject.
func (c *Client) DeleteBuildProject(ctx context.Context, in *DeleteBuildProjectInput) (*DeleteBuildProjectOutput, error) {
	return call[DeleteBuildProjectOutput](ctx, c, "DeleteBuildProject", in)
}

// PutSecret calls PutSecret.
func (c *Client) PutSecret(ctx context.Context, in *PutSecretInput) (*PutSecretOutput, error) {
	return call[PutSecretOutput](ctx, c, "PutSecret", in)
}

// DeleteSecret calls DeleteSecret.
func (c *Client) DeleteSecret(ctx context.Context, in *DeleteSecretInput) (*DeleteSecretOutput, error) {
	return call[DeleteSecretOutput](ctx, c, "DeleteSecret", in)
}

// ListSecrets calls ListSecrets.
func (c *Client) ListSecrets(ctx context.Context, in *ListSecretsInput) (*ListSecretsOutput, error) {
	if in == nil {
		in = &ListSecretsInput{}
	}
	return call[ListSecretsOutput](ctx, c, "ListSecrets", in)
}

// GetActionLog calls GetActionLog.
func (c *Client) GetActionLog(ctx context.Context, in *GetActionLogInput) (*GetActionLogOutput, error) {
	return call[GetActionLogOutput](ctx, c, "GetActionLog", in)
}
