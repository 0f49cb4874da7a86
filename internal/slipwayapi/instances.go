package slipwayapi

import (
	"context"
	"regexp"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

func init() { Operations = append(Operations, "CreateInstanceCredentials") }

// instanceNamePattern is CodeDeploy's on-premises instance name rule.
var instanceNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,55}$`)

// CreateInstanceCredentialsInput asks for a new access key bound to an
// on-premises instance: its user name is instance.<InstanceName>, so its
// user ARN (UserArn) is the iamUserArn to register the instance with, and
// the host command service lets it see that instance's commands only.
type CreateInstanceCredentialsInput struct {
	InstanceName string `json:"instanceName"`
}

// Validate checks the input.
func (in *CreateInstanceCredentialsInput) Validate() error {
	var v awsproto.Violations
	if in.InstanceName == "" {
		v.Null("instanceName")
	} else if !instanceNamePattern.MatchString(in.InstanceName) {
		v.Add("instanceName", in.InstanceName, "Member must satisfy regular expression pattern: [A-Za-z0-9_.@-]{1,55}")
	}
	return v.Err()
}

// CreateInstanceCredentialsOutput is the new key; the secret is shown
// only here.
type CreateInstanceCredentialsOutput struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	UserArn         string `json:"userArn"`
}

// CreateInstanceCredentials calls the operation.
func (c *Client) CreateInstanceCredentials(ctx context.Context, in *CreateInstanceCredentialsInput) (*CreateInstanceCredentialsOutput, error) {
	return call[CreateInstanceCredentialsOutput](ctx, c, "CreateInstanceCredentials", in)
}
