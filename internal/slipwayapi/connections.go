package slipwayapi

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

// Connections, modelled on AWS CodeConnections: a connection is a git
// remote outside Slipway, with the credentials to read it, that
// CodeStarSourceConnection source actions name by ARN (their
// ConnectionArn). These operations manage them.

// ConnectionOperations are the connection operations (also in
// Operations).
var ConnectionOperations = []string{
	"CreateConnection",
	"DeleteConnection",
	"GetConnection",
	"ListConnections",
}

func init() {
	for _, op := range ConnectionOperations {
		if !slices.Contains(Operations, op) {
			Operations = append(Operations, op)
		}
	}
	slices.Sort(Operations)
}

// Limits and patterns of the connection inputs.
const (
	// ConnectionNamePattern is what a connection name must match (as in
	// CodeConnections: 1 to 32 characters).
	ConnectionNamePattern = `[\w-]{1,32}`
	// ConnectionARNPattern is what a connection ARN must match; the
	// service name codestar-connections is accepted for codeconnections.
	ConnectionARNPattern = `arn:aws(-[\w]+)*:(codestar-connections|codeconnections):.+:[0-9]{12}:connection/.+`
	// MaxRemoteURLLength bounds a connection's remote URL.
	MaxRemoteURLLength = 2048
	// MaxCredentialLength bounds a connection's username and password.
	MaxCredentialLength = 1024
)

// ConnectionStatusAvailable is the status of every connection: Slipway
// needs no handshake with the remote's host.
const ConnectionStatusAvailable = "AVAILABLE"

var (
	connectionNameRE = regexp.MustCompile(`^` + ConnectionNamePattern + `$`)
	connectionARNRE  = regexp.MustCompile(`^` + ConnectionARNPattern + `$`)
)

// Connection is a git remote and the credentials to read it.
type Connection struct {
	ConnectionArn  string `json:"connectionArn"`
	ConnectionName string `json:"connectionName"`
	// RemoteURL is the repository's URL, or a template holding
	// {FullRepositoryId} for a host of many repositories.
	RemoteURL string `json:"remoteUrl"`
	// Username is the HTTP user name; absent when none was given.
	Username string `json:"username,omitempty"`
	// Password is "****" when the connection has a password (or access
	// token), absent otherwise; the secret itself is never returned.
	Password string `json:"password,omitempty"`
	// ConnectionStatus is always AVAILABLE.
	ConnectionStatus string `json:"connectionStatus"`
	// OwnerAccountId is the server's account ID.
	OwnerAccountId string         `json:"ownerAccountId"`
	Created        *awsproto.Time `json:"created,omitempty"`
}

// CreateConnectionInput is the input of CreateConnection.
type CreateConnectionInput struct {
	// ConnectionName matches [\w-]{1,32}; names need not be unique.
	ConnectionName string `json:"connectionName"`
	// RemoteURL is https://, http://, ssh://, git://, file://, scp-like
	// user@host:path or an absolute path on the server, without
	// credentials; it may hold {FullRepositoryId} once, in its path.
	RemoteURL string `json:"remoteUrl"`
	// Username and Password are HTTP basic credentials (a password or an
	// access token), for http(s) remotes only. A password without a
	// username is sent with the user name "git".
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// Validate checks the input's constraints (ValidationException; the
// server checks the URL's form).
func (s *CreateConnectionInput) Validate() error {
	var v awsproto.Violations
	switch {
	case s.ConnectionName == "":
		v.Null("connectionName")
	case !connectionNameRE.MatchString(s.ConnectionName):
		v.Add("connectionName", s.ConnectionName, "Member must satisfy regular expression pattern: "+ConnectionNamePattern)
	}
	switch {
	case s.RemoteURL == "":
		v.Null("remoteUrl")
	case utf8.RuneCountInString(s.RemoteURL) > MaxRemoteURLLength:
		v.Add("remoteUrl", "(not shown)", "Member must have length less than or equal to 2048")
	}
	if utf8.RuneCountInString(s.Username) > MaxCredentialLength {
		v.Add("username", s.Username, "Member must have length less than or equal to 1024")
	}
	if strings.ContainsAny(s.Username, "\r\n\x00") {
		v.Add("username", s.Username, "Member must not contain line breaks or NUL characters")
	}
	switch {
	case utf8.RuneCountInString(s.Password) > MaxCredentialLength:
		v.Add("password", SecretMask, "Member must have length less than or equal to 1024")
	case strings.ContainsAny(s.Password, "\r\n\x00"):
		v.Add("password", SecretMask, "Member must not contain line breaks or NUL characters")
	case s.Password == SecretMask:
		v.Add("password", SecretMask, `Member must not be "****", which is the mask shown in place of a stored password`)
	}
	return v.Err()
}

// CreateConnectionOutput is the output of CreateConnection.
type CreateConnectionOutput struct {
	ConnectionArn string `json:"connectionArn"`
}

// GetConnectionInput is the input of GetConnection.
type GetConnectionInput struct {
	ConnectionArn string `json:"connectionArn"`
}

// Validate checks the input's constraints (ValidationException).
func (s *GetConnectionInput) Validate() error { return validateConnectionARN(s.ConnectionArn) }

// GetConnectionOutput is the output of GetConnection.
type GetConnectionOutput struct {
	Connection *Connection `json:"connection"`
}

// ListConnectionsInput is the input of ListConnections.
type ListConnectionsInput struct{}

// ListConnectionsOutput is the output of ListConnections.
type ListConnectionsOutput struct {
	// Connections are ordered by name (byte-wise), then ARN.
	Connections []Connection `json:"connections"`
}

// DeleteConnectionInput is the input of DeleteConnection.
type DeleteConnectionInput struct {
	ConnectionArn string `json:"connectionArn"`
}

// Validate checks the input's constraints (ValidationException).
func (s *DeleteConnectionInput) Validate() error { return validateConnectionARN(s.ConnectionArn) }

// DeleteConnectionOutput is the (empty) output of DeleteConnection.
type DeleteConnectionOutput struct{}

func validateConnectionARN(arn string) error {
	var v awsproto.Violations
	switch {
	case arn == "":
		v.Null("connectionArn")
	case len(arn) > 256:
		v.Add("connectionArn", arn, "Member must have length less than or equal to 256")
	case !connectionARNRE.MatchString(arn):
		v.Add("connectionArn", arn, "Member must satisfy regular expression pattern: "+ConnectionARNPattern)
	}
	return v.Err()
}

// CreateConnection calls CreateConnection.
func (c *Client) CreateConnection(ctx context.Context, in *CreateConnectionInput) (*CreateConnectionOutput, error) {
	return call[CreateConnectionOutput](ctx, c, "CreateConnection", in)
}

// GetConnection calls GetConnection.
func (c *Client) GetConnection(ctx context.Context, in *GetConnectionInput) (*GetConnectionOutput, error) {
	return call[GetConnectionOutput](ctx, c, "GetConnection", in)
}

// ListConnections calls ListConnections.
func (c *Client) ListConnections(ctx context.Context, in *ListConnectionsInput) (*ListConnectionsOutput, error) {
	if in == nil {
		in = &ListConnectionsInput{}
	}
	return call[ListConnectionsOutput](ctx, c, "ListConnections", in)
}

// DeleteConnection calls DeleteConnection.
func (c *Client) DeleteConnection(ctx context.Context, in *DeleteConnectionInput) (*DeleteConnectionOutput, error) {
	return call[DeleteConnectionOutput](ctx, c, "DeleteConnection", in)
}
