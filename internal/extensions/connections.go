package extensions

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/gitsource"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// Connections is what the connection operations need besides the store:
// the ARNs' region and account.
type Connections struct {
	Region, AccountID string
}

func (s *Service) connections() (*Connections, error) {
	if s.Connections == nil {
		return nil, errors.New("extensions: no connections configured")
	}
	return s.Connections, nil
}

// CreateConnection stores a connection, its password sealed.
func (s *Service) CreateConnection(ctx context.Context, in *slipwayapi.CreateConnectionInput) (*slipwayapi.CreateConnectionOutput, error) {
	cs, err := s.connections()
	if err != nil {
		return nil, err
	}
	kind, err := gitsource.CheckRemoteURL(in.RemoteURL)
	if err != nil {
		return nil, awsproto.Errorf(slipwayapi.ValidationException, "remoteUrl: %v", err)
	}
	if kind != gitsource.KindHTTP && (in.Username != "" || in.Password != "") {
		return nil, awsproto.Errorf(slipwayapi.ValidationException,
			"username and password are HTTP credentials, for https:// and http:// remotes only; "+
				"an ssh remote carries its user in the URL and authenticates with the server's ssh keys (ssh-agent or ~/.ssh)")
	}
	now := s.now()
	c := &store.Connection{ARN: gitsource.ConnectionARN(cs.Region, cs.AccountID, uuid.NewString()), Name: in.ConnectionName,
		RemoteURL: in.RemoteURL, Username: in.Username, Created: now, Updated: now}
	if in.Password != "" {
		if s.Sealer == nil {
			return nil, errors.New("extensions: no Sealer configured to store a connection password")
		}
		if c.SealedPassword, err = s.Sealer.Seal([]byte(in.Password)); err != nil {
			return nil, fmt.Errorf("seal the connection password: %w", err)
		}
	}
	if err := s.Store.CreateConnection(ctx, c); err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "created connection", "arn", c.ARN, "name", c.Name, "remote", c.RemoteURL,
		"with_password", c.SealedPassword != nil, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.CreateConnectionOutput{ConnectionArn: c.ARN}, nil
}

// GetConnection returns a connection, its password masked.
func (s *Service) GetConnection(ctx context.Context, in *slipwayapi.GetConnectionInput) (*slipwayapi.GetConnectionOutput, error) {
	cs, err := s.connections()
	if err != nil {
		return nil, err
	}
	c, err := s.Store.GetConnection(ctx, gitsource.NormalizeARN(in.ConnectionArn))
	if err != nil {
		return nil, connectionNotFound(err, in.ConnectionArn)
	}
	return &slipwayapi.GetConnectionOutput{Connection: cs.wire(c)}, nil
}

// ListConnections returns every connection.
func (s *Service) ListConnections(ctx context.Context, _ *slipwayapi.ListConnectionsInput) (*slipwayapi.ListConnectionsOutput, error) {
	cs, err := s.connections()
	if err != nil {
		return nil, err
	}
	rows, err := s.Store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	out := &slipwayapi.ListConnectionsOutput{Connections: make([]slipwayapi.Connection, 0, len(rows))}
	for _, c := range rows {
		out.Connections = append(out.Connections, *cs.wire(c))
	}
	return out, nil
}

// DeleteConnection removes a connection. Pipelines that use it fail their
// source actions (ConfigurationError) until they name another one.
func (s *Service) DeleteConnection(ctx context.Context, in *slipwayapi.DeleteConnectionInput) (*slipwayapi.DeleteConnectionOutput, error) {
	if _, err := s.connections(); err != nil {
		return nil, err
	}
	arn := gitsource.NormalizeARN(in.ConnectionArn)
	if err := s.Store.DeleteConnection(ctx, arn); err != nil {
		return nil, connectionNotFound(err, in.ConnectionArn)
	}
	s.logger().InfoContext(ctx, "deleted connection", "arn", arn, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.DeleteConnectionOutput{}, nil
}

func connectionNotFound(err error, arn string) error {
	if errors.Is(err, store.ErrNotFound) {
		return awsproto.Errorf(slipwayapi.ResourceNotFoundException,
			"connection %q does not exist; ListConnections shows the connections there are", arn)
	}
	return err
}

// wire is c as the API shows it: the password masked.
func (cs *Connections) wire(c *store.Connection) *slipwayapi.Connection {
	w := &slipwayapi.Connection{ConnectionArn: c.ARN, ConnectionName: c.Name, RemoteURL: c.RemoteURL, Username: c.Username,
		ConnectionStatus: slipwayapi.ConnectionStatusAvailable, OwnerAccountId: cs.AccountID, Created: awsproto.NewTime(c.Created)}
	if c.SealedPassword != nil {
		w.Password = slipwayapi.SecretMask
	}
	return w
}
