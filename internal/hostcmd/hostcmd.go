// Package hostcmd holds the pieces of the CodeDeploy host-command protocol
// (CodeDeployCommandService_v20141006, api.md §6) that the Slipway server
// and the Slipway agent share:
//
//   - [Spec], the deployment specification a host reads with
//     GetDeploymentSpecification (api.md §6.6), PascalCase on the wire;
//   - [Sign] and [Verify]: the "PKCS7/JSON" envelope that carries it, a
//     PKCS#7 SignedData with the JSON attached and the signer certificate
//     embedded, as the stock agent expects; [LoadOrCreateSigner] keeps the
//     server's signing key and self-signed certificate;
//   - [Diagnostics], the JSON the agent sends with PutHostCommandComplete,
//     and [LifecycleErrorCode], its mapping to the public API;
//   - [AckPayload], the acknowledgement diagnostics, and [FormatLog], the
//     Slipway extension for streaming hook output with
//     PostHostCommandUpdate;
//   - the command names ([CommandNames]).
//
// Slipway extensions are fields and formats the stock agent ignores:
// Spec.SlipwayBundleUrl (where to download the bundle from Slipway) and
// the SLIPWAY_LOG diagnostics format.
package hostcmd

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// DeploymentSystem is the DeploymentSystem of GetDeploymentSpecification;
// the agent refuses any other value.
const DeploymentSystem = "CodeDeploy"

// Envelope formats.
const (
	// FormatPKCS7JSON is the deployment specification's envelope format.
	FormatPKCS7JSON = "PKCS7/JSON"
	// FormatJSON is the format of acknowledgement and completion
	// diagnostics.
	FormatJSON = "JSON"
	// FormatLog (Slipway extension) marks a PostHostCommandUpdate whose
	// Diagnostics.Payload is a chunk of hook output (plain text, at most
	// MaxPayload characters), appended to the lifecycle event's log.
	FormatLog = "SLIPWAY_LOG"
)

// MaxPayload is the model's limit on an Envelope's Payload, in characters.
const MaxPayload = 8192

// Envelope is the protocol's envelope (cdcmdapi.Envelope has the same
// shape).
type Envelope struct {
	Format  string `json:"Format,omitempty"`
	Payload string `json:"Payload,omitempty"`
}

// Command names: the lifecycle events an agent runs (api.md §6.7). The
// traffic events BlockTraffic and AllowTraffic have no command.
const (
	CommandBeforeBlockTraffic = "BeforeBlockTraffic"
	CommandAfterBlockTraffic  = "AfterBlockTraffic"
	CommandApplicationStop    = "ApplicationStop"
	CommandDownloadBundle     = "DownloadBundle"
	CommandBeforeInstall      = "BeforeInstall"
	CommandInstall            = "Install"
	CommandAfterInstall       = "AfterInstall"
	CommandApplicationStart   = "ApplicationStart"
	CommandValidateService    = "ValidateService"
	CommandBeforeAllowTraffic = "BeforeAllowTraffic"
	CommandAfterAllowTraffic  = "AfterAllowTraffic"
)

// CommandNames returns the command names in canonical order (the local
// deployer's DEFAULT_ORDERED_LIFECYCLE_EVENTS); it is also the spec's
// AllPossibleLifecycleEvents. The result is a new slice.
func CommandNames() []string {
	return []string{
		CommandBeforeBlockTraffic, CommandAfterBlockTraffic, CommandApplicationStop, CommandDownloadBundle,
		CommandBeforeInstall, CommandInstall, CommandAfterInstall, CommandApplicationStart, CommandValidateService,
		CommandBeforeAllowTraffic, CommandAfterAllowTraffic,
	}
}

// IsCommand reports whether name is a command an agent runs.
func IsCommand(name string) bool { return slices.Contains(CommandNames(), name) }

// IsHook reports whether the command runs appspec hook scripts (every
// command but DownloadBundle and Install).
func IsHook(name string) bool {
	return IsCommand(name) && name != CommandDownloadBundle && name != CommandInstall
}

// Spec is the deployment specification (api.md §6.6). Field names are the
// wire's PascalCase keys.
type Spec struct {
	DeploymentId               string                `json:"DeploymentId"`
	DeploymentGroupId          string                `json:"DeploymentGroupId"`
	DeploymentGroupName        string                `json:"DeploymentGroupName"`
	ApplicationName            string                `json:"ApplicationName"`
	DeploymentCreator          string                `json:"DeploymentCreator,omitempty"` // default "user"
	DeploymentType             string                `json:"DeploymentType,omitempty"`    // default "IN_PLACE"
	AppSpecFilename            string                `json:"AppSpecFilename,omitempty"`   // default appspec.yml
	AgentActionOverrides       *AgentActionOverrides `json:"AgentActionOverrides,omitempty"`
	AllPossibleLifecycleEvents []string              `json:"AllPossibleLifecycleEvents,omitempty"`
	Revision                   Revision              `json:"Revision"`
	GitHubAccessToken          string                `json:"GitHubAccessToken,omitempty"`
	// SlipwayBundleUrl (Slipway extension) is where the agent downloads
	// the revision's bundle from Slipway: an absolute URL, or a path such
	// as /deploy/bundles/d-ABCDEFGHI to resolve against the agent's
	// Slipway endpoint ([BundleURL]). The GET must be SigV4-signed for
	// service "codedeploy-commands" with the instance's own access key;
	// the response body is the bundle in Revision's BundleType.
	SlipwayBundleUrl string `json:"SlipwayBundleUrl,omitempty"`
}

// AgentActionOverrides carries the deployment's fileExistsBehavior.
type AgentActionOverrides struct {
	AgentOverrides AgentOverrides `json:"AgentOverrides"`
}

// AgentOverrides: FileExistsBehavior is DISALLOW, OVERWRITE or RETAIN.
type AgentOverrides struct {
	FileExistsBehavior string `json:"FileExistsBehavior,omitempty"`
}

// Revision types of a spec.
const (
	RevisionS3     = "S3"
	RevisionGitHub = "GitHub"
)

// Revision is the revision a spec deploys.
type Revision struct {
	RevisionType   string          `json:"RevisionType"`
	S3Revision     *S3Revision     `json:"S3Revision,omitempty"`
	GitHubRevision *GitHubRevision `json:"GitHubRevision,omitempty"`
}

// S3Revision is an S3 bundle; BundleType is tar, tgz or zip.
type S3Revision struct {
	Bucket     string `json:"Bucket"`
	Key        string `json:"Key"`
	BundleType string `json:"BundleType"`
	Version    string `json:"Version,omitempty"`
	ETag       string `json:"ETag,omitempty"`
}

// GitHubRevision is a GitHub commit.
type GitHubRevision struct {
	Account    string `json:"Account"`
	Repository string `json:"Repository"`
	CommitId   string `json:"CommitId"`
	BundleType string `json:"BundleType,omitempty"`
	Anonymous  bool   `json:"Anonymous"`
}

// FileExistsBehavior returns the spec's file-exists behaviour, DISALLOW by
// default.
func (s *Spec) FileExistsBehavior() string {
	if s.AgentActionOverrides == nil || s.AgentActionOverrides.AgentOverrides.FileExistsBehavior == "" {
		return "DISALLOW"
	}
	return strings.ToUpper(s.AgentActionOverrides.AgentOverrides.FileExistsBehavior)
}

// Check reports a spec the agent would refuse: missing required fields or
// an unknown revision type.
func (s *Spec) Check() error {
	switch {
	case s.DeploymentId == "", s.DeploymentGroupId == "", s.DeploymentGroupName == "", s.ApplicationName == "":
		return fmt.Errorf("hostcmd: deployment specification lacks DeploymentId, DeploymentGroupId, DeploymentGroupName or ApplicationName")
	}
	switch s.Revision.RevisionType {
	case RevisionS3:
		r := s.Revision.S3Revision
		if r == nil || r.Bucket == "" || r.Key == "" || !slices.Contains([]string{"tar", "tgz", "zip"}, r.BundleType) {
			return fmt.Errorf("hostcmd: S3 revision needs Bucket, Key and BundleType tar, tgz or zip")
		}
	case RevisionGitHub:
		r := s.Revision.GitHubRevision
		if r == nil || r.Account == "" || r.Repository == "" || r.CommitId == "" {
			return fmt.Errorf("hostcmd: GitHub revision needs Account, Repository and CommitId")
		}
	default:
		return fmt.Errorf("hostcmd: unsupported revision type %q", s.Revision.RevisionType)
	}
	return nil
}

// BundleURL resolves the spec's SlipwayBundleUrl against endpoint (the
// agent's Slipway endpoint, e.g. https://slipway.example:7700); "" if the
// spec has none.
func BundleURL(endpoint string, s *Spec) string {
	u := s.SlipwayBundleUrl
	if u == "" || strings.Contains(u, "://") {
		return u
	}
	return strings.TrimSuffix(endpoint, "/") + "/" + strings.TrimPrefix(u, "/")
}

// BundlePathPrefix is the path of the bundle endpoint; the deployment ID
// follows it.
const BundlePathPrefix = "/deploy/bundles/"

// AckPayload is the Diagnostics payload of PutHostCommandAcknowledgement
// (Format JSON): {"IsCommandNoop": bool}.
type AckPayload struct {
	IsCommandNoop bool `json:"IsCommandNoop"`
}

// Envelope returns the acknowledgement diagnostics.
func (a AckPayload) Envelope() Envelope {
	b, _ := json.Marshal(a)
	return Envelope{Format: FormatJSON, Payload: string(b)}
}

// Agent error codes of Diagnostics.ErrorCode (hook_executor.rb).
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

// MaxLogTail is how much of a script's output the agent keeps in
// Diagnostics.Log, in characters.
const MaxLogTail = 2048

// Diagnostics is the payload of PutHostCommandComplete's Diagnostics
// (Format JSON).
type Diagnostics struct {
	ErrorCode  int    `json:"error_code"`
	ScriptName string `json:"script_name"`
	Message    string `json:"message"`
	Log        string `json:"log"`
}

// Envelope returns the diagnostics as a JSON envelope. A Log making the
// payload longer than MaxPayload is cut to its tail.
func (d Diagnostics) Envelope() Envelope {
	for {
		b, _ := json.Marshal(d)
		if len(b) <= MaxPayload || d.Log == "" {
			return Envelope{Format: FormatJSON, Payload: string(b)}
		}
		d.Log = d.Log[min(len(d.Log), len(b)-MaxPayload+16):]
	}
}

// ParseDiagnostics decodes a JSON diagnostics envelope. An empty payload
// gives zero Diagnostics.
func ParseDiagnostics(e Envelope) (Diagnostics, error) {
	var d Diagnostics
	if e.Payload == "" {
		return d, nil
	}
	if e.Format != "" && e.Format != FormatJSON {
		return d, fmt.Errorf("hostcmd: diagnostics format %q is not %s", e.Format, FormatJSON)
	}
	if err := json.Unmarshal([]byte(e.Payload), &d); err != nil {
		return d, fmt.Errorf("hostcmd: diagnostics payload: %w", err)
	}
	return d, nil
}

// Public LifecycleErrorCode values (cdapi.LifecycleErrorCode*).
const (
	LifecycleSuccess             = "Success"
	LifecycleScriptMissing       = "ScriptMissing"
	LifecycleScriptNotExecutable = "ScriptNotExecutable"
	LifecycleScriptTimedOut      = "ScriptTimedOut"
	LifecycleScriptFailed        = "ScriptFailed"
	LifecycleUnknownError        = "UnknownError"
)

// LifecycleErrorCode maps an agent error code to the public API's
// LifecycleErrorCode: 0–5 in order; 6 (outputs left open) is a script
// failure; 7 (failed after an agent restart) and anything else is
// UnknownError.
func LifecycleErrorCode(code int) string {
	switch code {
	case CodeSucceeded:
		return LifecycleSuccess
	case CodeScriptMissing:
		return LifecycleScriptMissing
	case CodeScriptNotExecutable:
		return LifecycleScriptNotExecutable
	case CodeScriptTimedOut:
		return LifecycleScriptTimedOut
	case CodeScriptFailed, CodeOutputsLeftOpen:
		return LifecycleScriptFailed
	}
	return LifecycleUnknownError
}

// ExecutionIDPrefix starts every DeploymentExecutionId Slipway hands out.
const ExecutionIDPrefix = "slipway/deployment/"

// ExecutionID returns the DeploymentExecutionId of a deployment on one
// instance (it matches the model's pattern ^[^/]+/[^/]+/[^/]+/.+$). Agents
// treat it as opaque.
func ExecutionID(deploymentID, instance string) string {
	return ExecutionIDPrefix + deploymentID + "/" + instance
}

// ParseExecutionID splits an ExecutionID.
func ParseExecutionID(id string) (deploymentID, instance string, ok bool) {
	rest, ok := strings.CutPrefix(id, ExecutionIDPrefix)
	if !ok {
		return "", "", false
	}
	deploymentID, instance, ok = strings.Cut(rest, "/")
	return deploymentID, instance, ok && deploymentID != "" && instance != ""
}
