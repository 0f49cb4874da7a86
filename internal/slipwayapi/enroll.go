package slipwayapi

import (
	"context"
	"fmt"
	"slices"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

// Enrollment tokens let an agent register its own on-premises instance:
// `slipway-agent enroll` POSTs a token and an instance name to /enroll
// (no SigV4: the token is the credential) and receives its agent
// configuration (docs/agent.md, "Enrollment").

// EnrollOperations are the enrollment token operations (also in
// Operations).
var EnrollOperations = []string{
	"CreateEnrollmentToken",
	"DeleteEnrollmentToken",
	"ListEnrollmentTokens",
}

func init() {
	for _, op := range EnrollOperations {
		if !slices.Contains(Operations, op) {
			Operations = append(Operations, op)
		}
	}
	slices.Sort(Operations)
}

// Limits and defaults of enrollment tokens.
const (
	DefaultEnrollmentExpiresSeconds = 86400
	MaxEnrollmentExpiresSeconds     = 30 * 86400
	DefaultEnrollmentMaxUses        = 1
	MaxEnrollmentMaxUses            = 10000
	MaxEnrollmentTags               = 10
)

// EnrollPath is the server path agents enroll at.
const EnrollPath = "/enroll"

// EnrollmentTag is a tag an enrolled instance gets.
type EnrollmentTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// CreateEnrollmentTokenInput creates a token. ExpiresInSeconds defaults
// to 86400 (at most 30 days) and MaxUses to 1.
type CreateEnrollmentTokenInput struct {
	Tags             []EnrollmentTag `json:"tags,omitempty"`
	ExpiresInSeconds int64           `json:"expiresInSeconds,omitempty"`
	MaxUses          int64           `json:"maxUses,omitempty"`
}

// Validate checks the input.
func (in *CreateEnrollmentTokenInput) Validate() error {
	var v awsproto.Violations
	if in.ExpiresInSeconds < 0 || in.ExpiresInSeconds > MaxEnrollmentExpiresSeconds {
		v.Add("expiresInSeconds", in.ExpiresInSeconds, fmt.Sprintf("Member must have value between 1 and %d", MaxEnrollmentExpiresSeconds))
	}
	if in.MaxUses < 0 || in.MaxUses > MaxEnrollmentMaxUses {
		v.Add("maxUses", in.MaxUses, fmt.Sprintf("Member must have value between 1 and %d", MaxEnrollmentMaxUses))
	}
	if len(in.Tags) > MaxEnrollmentTags {
		v.Add("tags", len(in.Tags), fmt.Sprintf("Member must have length less than or equal to %d", MaxEnrollmentTags))
	}
	seen := map[string]bool{}
	for i, t := range in.Tags {
		path := fmt.Sprintf("tags.%d", i+1)
		switch {
		case t.Key == "" || len(t.Key) > 128:
			v.Add(path+".key", t.Key, "Member must have length between 1 and 128")
		case t.Value == "" || len(t.Value) > 256:
			v.Add(path+".value", t.Value, "Member must have length between 1 and 256 (on-premises instance tags need a value)")
		case seen[t.Key]:
			v.Add(path+".key", t.Key, "Member must be unique: an instance has one value per tag key")
		}
		seen[t.Key] = true
	}
	return v.Err()
}

// CreateEnrollmentTokenOutput is the new token; the token is shown only
// here (the server keeps its SHA-256).
type CreateEnrollmentTokenOutput struct {
	TokenID string         `json:"tokenId"`
	Token   string         `json:"token"`
	Expires *awsproto.Time `json:"expires"`
}

// EnrollmentToken is a token as listings show it, without its secret.
type EnrollmentToken struct {
	TokenID string          `json:"tokenId"`
	Tags    []EnrollmentTag `json:"tags"`
	MaxUses int64           `json:"maxUses"`
	Uses    int64           `json:"uses"`
	Expires *awsproto.Time  `json:"expires"`
	Created *awsproto.Time  `json:"created"`
}

// ListEnrollmentTokensInput lists every token.
type ListEnrollmentTokensInput struct{}

// ListEnrollmentTokensOutput holds the tokens ordered by ID.
type ListEnrollmentTokensOutput struct {
	Tokens []EnrollmentToken `json:"tokens"`
}

// DeleteEnrollmentTokenInput revokes a token.
type DeleteEnrollmentTokenInput struct {
	TokenID string `json:"tokenId"`
}

// Validate checks the input.
func (in *DeleteEnrollmentTokenInput) Validate() error {
	var v awsproto.Violations
	if in.TokenID == "" {
		v.Null("tokenId")
	}
	return v.Err()
}

// DeleteEnrollmentTokenOutput is empty.
type DeleteEnrollmentTokenOutput struct{}

// EnrollRequest is the JSON body of POST /enroll.
type EnrollRequest struct {
	Token        string `json:"token"`
	InstanceName string `json:"instanceName"`
}

// EnrollResponse is the JSON body of a successful POST /enroll: the
// agent configuration file (YAML) of the new instance.
type EnrollResponse struct {
	InstanceName string `json:"instanceName"`
	IamUserArn   string `json:"iamUserArn"`
	Config       string `json:"config"`
}

// EnrollError is the JSON body of a failed POST /enroll.
type EnrollError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// CreateEnrollmentToken calls the operation.
func (c *Client) CreateEnrollmentToken(ctx context.Context, in *CreateEnrollmentTokenInput) (*CreateEnrollmentTokenOutput, error) {
	return call[CreateEnrollmentTokenOutput](ctx, c, "CreateEnrollmentToken", in)
}

// ListEnrollmentTokens calls the operation.
func (c *Client) ListEnrollmentTokens(ctx context.Context, in *ListEnrollmentTokensInput) (*ListEnrollmentTokensOutput, error) {
	return call[ListEnrollmentTokensOutput](ctx, c, "ListEnrollmentTokens", in)
}

// DeleteEnrollmentToken calls the operation.
func (c *Client) DeleteEnrollmentToken(ctx context.Context, in *DeleteEnrollmentTokenInput) (*DeleteEnrollmentTokenOutput, error) {
	return call[DeleteEnrollmentTokenOutput](ctx, c, "DeleteEnrollmentToken", in)
}
