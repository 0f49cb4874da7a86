package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/slipway-cd/slipway/internal/appspec"
	"github.com/slipway-cd/slipway/internal/cdcmdapi"
	"github.com/slipway-cd/slipway/internal/hostcmd"
)

// Envelope formats of the deployment specification (reference/api.md §6.6).
const (
	FormatPKCS7JSON = "PKCS7/JSON"
	FormatTextJSON  = "TEXT/JSON"
)

// Revision types of a deployment specification.
const (
	RevisionS3        = "S3"
	RevisionGitHub    = "GitHub"
	RevisionLocalFile = "Local File"
	RevisionLocalDir  = "Local Directory"
)

// DeploymentSpec is the JSON payload of a deployment specification's
// GenericEnvelope, with the fields the agent reads (api.md §6.6) and the
// Slipway extension fields.
type DeploymentSpec struct {
	DeploymentID               string   `json:"DeploymentId"`
	DeploymentGroupID          string   `json:"DeploymentGroupId"`
	DeploymentGroupName        string   `json:"DeploymentGroupName"`
	ApplicationName            string   `json:"ApplicationName"`
	DeploymentCreator          string   `json:"DeploymentCreator,omitempty"`
	DeploymentType             string   `json:"DeploymentType,omitempty"`
	AppSpecFilename            string   `json:"AppSpecFilename,omitempty"`
	AllPossibleLifecycleEvents []string `json:"AllPossibleLifecycleEvents,omitempty"`
	AgentActionOverrides       *struct {
		AgentOverrides *struct {
			FileExistsBehavior string `json:"FileExistsBehavior,omitempty"`
		} `json:"AgentOverrides,omitempty"`
	} `json:"AgentActionOverrides,omitempty"`
	Revision Revision `json:"Revision"`

	// SlipwayBundleURL is where the server serves the revision's bundle
	// (a Slipway extension; absolute, or relative to the endpoint). When
	// empty the agent uses <endpoint>/deploy/bundles/<deployment id>.
	SlipwayBundleURL string `json:"SlipwayBundleUrl,omitempty"`
	// SlipwayBundleSHA256 is the bundle's hex SHA-256, checked after the
	// download when set.
	SlipwayBundleSHA256 string `json:"SlipwayBundleSha256,omitempty"`
}

// Revision is the revision location of a deployment specification.
type Revision struct {
	RevisionType string `json:"RevisionType"`
	S3Revision   *struct {
		Bucket     string  `json:"Bucket"`
		Key        string  `json:"Key"`
		BundleType string  `json:"BundleType"`
		Version    *string `json:"Version"`
		ETag       *string `json:"ETag"`
	} `json:"S3Revision,omitempty"`
	GitHubRevision *struct {
		Account    string `json:"Account"`
		Repository string `json:"Repository"`
		CommitID   string `json:"CommitId"`
		BundleType string `json:"BundleType"`
	} `json:"GitHubRevision,omitempty"`
	LocalRevision *struct {
		Location   string `json:"Location"`
		BundleType string `json:"BundleType"`
	} `json:"LocalRevision,omitempty"`
}

// FileExistsBehavior returns the deployment's file_exists_behavior,
// upper-cased, DISALLOW when absent (api.md §6.6).
func (s *DeploymentSpec) FileExistsBehavior() appspec.FileExistsBehavior {
	if s.AgentActionOverrides != nil && s.AgentActionOverrides.AgentOverrides != nil {
		if v := strings.ToUpper(s.AgentActionOverrides.AgentOverrides.FileExistsBehavior); v != "" {
			return appspec.FileExistsBehavior(v)
		}
	}
	return appspec.FileExistsDisallow
}

// BundleType returns the revision's bundle type (tar, tgz, zip, directory),
// or "" when the specification does not say.
func (s *DeploymentSpec) BundleType() string {
	r := s.Revision
	switch {
	case r.S3Revision != nil:
		return r.S3Revision.BundleType
	case r.GitHubRevision != nil:
		return r.GitHubRevision.BundleType
	case r.LocalRevision != nil:
		return r.LocalRevision.BundleType
	}
	return ""
}

// ParseDeploymentSpec parses and checks the JSON payload of a deployment
// specification, as deployment_specification.rb does: the required fields
// must be present and non-empty, an ARN deployment id is reduced to its
// id, and defaults are filled in.
func ParseDeploymentSpec(payload []byte) (*DeploymentSpec, error) {
	var s DeploymentSpec
	if err := json.Unmarshal(payload, &s); err != nil {
		return nil, fmt.Errorf("deployment specification is not valid JSON: %w", err)
	}
	if strings.HasPrefix(s.DeploymentID, "arn:") {
		// arn:aws:codedeploy:us-east-1:123:deployment/d-ABC -> d-ABC
		parts := strings.SplitN(s.DeploymentID, ":", 6)
		if len(parts) == 6 {
			if _, id, ok := strings.Cut(parts[5], "/"); ok {
				s.DeploymentID = id
			}
		}
	}
	var missing []string
	for name, v := range map[string]string{
		"DeploymentId": s.DeploymentID, "DeploymentGroupId": s.DeploymentGroupID,
		"DeploymentGroupName": s.DeploymentGroupName, "ApplicationName": s.ApplicationName,
		"Revision.RevisionType": s.Revision.RevisionType,
	} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("deployment specification is missing %s", strings.Join(slices.Sorted(slices.Values(missing)), ", "))
	}
	for _, v := range []string{s.DeploymentID, s.DeploymentGroupID} {
		if strings.ContainsAny(v, `/\`) || v == "." || v == ".." || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("deployment specification has an unsafe id %q", v)
		}
	}
	if s.DeploymentCreator == "" {
		s.DeploymentCreator = "user"
	}
	if s.DeploymentType == "" {
		s.DeploymentType = "IN_PLACE"
	}
	if s.AppSpecFilename == "" {
		s.AppSpecFilename = appspec.DefaultFilename
	}
	switch bt := s.BundleType(); bt {
	case "", "tar", "tgz", "zip", "directory":
	default:
		return nil, fmt.Errorf("deployment specification has unsupported BundleType %q (tar, tgz or zip)", bt)
	}
	switch fe := s.FileExistsBehavior(); fe {
	case appspec.FileExistsDisallow, appspec.FileExistsOverwrite, appspec.FileExistsRetain:
	default:
		return nil, fmt.Errorf("deployment specification has unsupported FileExistsBehavior %q", fe)
	}
	return &s, nil
}

// EnvelopeVerifier returns the verified JSON content of a PKCS7/JSON
// envelope payload. Plug in the server's verification (package hostcmd)
// with [Agent.Verify].
type EnvelopeVerifier func(payload string) ([]byte, error)

// VerifyPKCS7 verifies a PKCS7/JSON payload with the signer certificate
// embedded in it, as the stock agent does (hostcmd.Verify), and returns the
// specification's JSON.
func VerifyPKCS7(payload string) ([]byte, error) {
	s, err := hostcmd.Verify(hostcmd.Envelope{Format: hostcmd.FormatPKCS7JSON, Payload: payload})
	if err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

// ErrUnsupportedFormat is returned for an envelope format the agent does
// not accept.
var ErrUnsupportedFormat = errors.New("unsupported deployment specification format")

// openEnvelope returns the JSON payload of a GetDeploymentSpecification
// output's GenericEnvelope, checking DeploymentSystem and the format the
// way command_poller.rb and deployment_specification.rb do.
func openEnvelope(out *cdcmdapi.GetDeploymentSpecificationOutput, verify EnvelopeVerifier, allowText bool) ([]byte, error) {
	if out.DeploymentSystem != "CodeDeploy" {
		return nil, fmt.Errorf("Deployment System mismatch: expected CodeDeploy, got %q", out.DeploymentSystem)
	}
	if out.DeploymentSpecification == nil || out.DeploymentSpecification.GenericEnvelope == nil {
		return nil, errors.New("the service returned no deployment specification")
	}
	env := out.DeploymentSpecification.GenericEnvelope
	switch env.Format {
	case FormatPKCS7JSON:
		if verify == nil {
			verify = VerifyPKCS7
		}
		data, err := verify(env.Payload)
		if err != nil {
			return nil, fmt.Errorf("Validation of PKCS7 signed message failed: %w", err)
		}
		return data, nil
	case FormatTextJSON:
		if !allowText {
			return nil, fmt.Errorf("%w: %s (set allow_unsigned_specs to accept it)", ErrUnsupportedFormat, env.Format)
		}
		return []byte(env.Payload), nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupportedFormat, env.Format)
}
