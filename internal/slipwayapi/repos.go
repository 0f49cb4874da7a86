package slipwayapi

import (
	"context"
	"slices"
	"unicode/utf8"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

// Hosted git repositories: the server keeps bare repositories that people
// push to over HTTP (git's smart protocol at <server>/git/<name>) and that
// CodeCommit source actions read. These operations manage them.

// RepositoryOperations are the repository operations (also in Operations).
var RepositoryOperations = []string{
	"CreateRepository",
	"DeleteRepository",
	"GetRepository",
	"ListRepositories",
}

func init() {
	for _, op := range RepositoryOperations {
		if !slices.Contains(Operations, op) {
			Operations = append(Operations, op)
		}
	}
	slices.Sort(Operations)
}

// Error codes of the repository operations, CodeCommit's names.
const (
	// RepositoryNameExistsException: CreateRepository names a repository
	// that exists.
	RepositoryNameExistsException = "RepositoryNameExistsException"
	// RepositoryDoesNotExistException: the named repository does not
	// exist.
	RepositoryDoesNotExistException = "RepositoryDoesNotExistException"
	// InvalidRepositoryNameException: the name breaks the naming rule
	// (RepositoryNameRule).
	InvalidRepositoryNameException = "InvalidRepositoryNameException"
)

// RepositoryNameRule is CodeCommit's repository naming rule, which hosted
// repositories follow.
const RepositoryNameRule = "1 to 100 letters, digits, '.', '_' or '-', not ending in .git and not . or .."

// MaxRepositoryDescriptionLength bounds a repository description (as in
// CodeCommit).
const MaxRepositoryDescriptionLength = 1000

// Repository is a hosted git repository.
type Repository struct {
	RepositoryName string `json:"repositoryName"`
	// Description is what CreateRepository was given; absent when none.
	Description string `json:"description,omitempty"`
	// CloneURLHTTP is the URL to clone and push: the server's public URL
	// and /git/<name>. git authenticates with HTTP basic authentication:
	// an access key ID as the user name, its secret as the password.
	CloneURLHTTP string `json:"cloneUrlHttp"`
	// ARN is arn:aws:codecommit:<region>:<account>:<name>.
	ARN string `json:"arn"`
	// Created is when the repository was created (epoch seconds).
	Created *awsproto.Time `json:"created,omitempty"`
}

// CreateRepositoryInput is the input of CreateRepository.
type CreateRepositoryInput struct {
	// RepositoryName follows RepositoryNameRule.
	RepositoryName string `json:"repositoryName"`
	// Description is optional, at most 1000 characters.
	Description string `json:"description,omitempty"`
}

// Validate checks the input's constraints (ValidationException; the
// naming rule is the server's, InvalidRepositoryNameException).
func (s *CreateRepositoryInput) Validate() error {
	var v awsproto.Violations
	if s.RepositoryName == "" {
		v.Null("repositoryName")
	}
	if utf8.RuneCountInString(s.Description) > MaxRepositoryDescriptionLength {
		v.Add("description", s.Description, "Member must have length less than or equal to 1000")
	}
	return v.Err()
}

// CreateRepositoryOutput is the output of CreateRepository.
type CreateRepositoryOutput struct {
	Repository *Repository `json:"repository"`
}

// GetRepositoryInput is the input of GetRepository.
type GetRepositoryInput struct {
	RepositoryName string `json:"repositoryName"`
}

// Validate checks the input's constraints (ValidationException).
func (s *GetRepositoryInput) Validate() error { return requireRepositoryName(s.RepositoryName) }

// GetRepositoryOutput is the output of GetRepository.
type GetRepositoryOutput struct {
	Repository *Repository `json:"repository"`
}

// ListRepositoriesInput is the input of ListRepositories.
type ListRepositoriesInput struct{}

// ListRepositoriesOutput is the output of ListRepositories.
type ListRepositoriesOutput struct {
	// Repositories are ordered by name (byte-wise).
	Repositories []Repository `json:"repositories"`
}

// DeleteRepositoryInput is the input of DeleteRepository.
type DeleteRepositoryInput struct {
	RepositoryName string `json:"repositoryName"`
}

// Validate checks the input's constraints (ValidationException).
func (s *DeleteRepositoryInput) Validate() error { return requireRepositoryName(s.RepositoryName) }

// DeleteRepositoryOutput is the (empty) output of DeleteRepository.
type DeleteRepositoryOutput struct{}

func requireRepositoryName(name string) error {
	var v awsproto.Violations
	if name == "" {
		v.Null("repositoryName")
	}
	return v.Err()
}

// CreateRepository calls CreateRepository.
func (c *Client) CreateRepository(ctx context.Context, in *CreateRepositoryInput) (*CreateRepositoryOutput, error) {
	return call[CreateRepositoryOutput](ctx, c, "CreateRepository", in)
}

// GetRepository calls GetRepository.
func (c *Client) GetRepository(ctx context.Context, in *GetRepositoryInput) (*GetRepositoryOutput, error) {
	return call[GetRepositoryOutput](ctx, c, "GetRepository", in)
}

// ListRepositories calls ListRepositories.
func (c *Client) ListRepositories(ctx context.Context, in *ListRepositoriesInput) (*ListRepositoriesOutput, error) {
	if in == nil {
		in = &ListRepositoriesInput{}
	}
	return call[ListRepositoriesOutput](ctx, c, "ListRepositories", in)
}

// DeleteRepository calls DeleteRepository.
func (c *Client) DeleteRepository(ctx context.Context, in *DeleteRepositoryInput) (*DeleteRepositoryOutput, error) {
	return call[DeleteRepositoryOutput](ctx, c, "DeleteRepository", in)
}
