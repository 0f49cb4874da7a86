package extensions

import (
	"context"
	"errors"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// KeyCreator creates access keys (auth.Keys is one).
type KeyCreator interface {
	Create(ctx context.Context, userName string) (id, secret string, err error)
}

// InstanceUserPrefix starts the user name of an instance's own key
// (codedeploy.InstanceUserPrefix).
const InstanceUserPrefix = "instance."

// CreateInstanceCredentials creates an access key bound to an on-premises
// instance (user instance.<name>): register the instance with the
// returned userArn as its iamUserArn and configure its agent with the key.
func (s *Service) CreateInstanceCredentials(ctx context.Context, in *slipwayapi.CreateInstanceCredentialsInput) (*slipwayapi.CreateInstanceCredentialsOutput, error) {
	if s.Keys == nil {
		return nil, errors.New("extensions: no access keys configured")
	}
	id, secret, err := s.Keys.Create(ctx, InstanceUserPrefix+in.InstanceName)
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "instance credentials created", "instance", in.InstanceName, "access_key_id", id)
	return &slipwayapi.CreateInstanceCredentialsOutput{AccessKeyID: id, SecretAccessKey: secret,
		UserArn: "arn:aws:iam::" + s.AccountID + ":user/" + InstanceUserPrefix + in.InstanceName}, nil
}
