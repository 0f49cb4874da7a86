package store

import (
	"context"
	"time"
)

// CodeDeploy deployments (tables in migrations/*/0008_deployments.sql):
// the deployment runner (package deploy) keeps each deployment, each of
// its targets (an instance with its lifecycle events) and each instance's
// health in a deployment group as a JSON document it defines, next to the
// columns the store selects by. Host commands are rows of their own: the
// agent protocol looks them up by instance and status.

// Deployment is one deployment.
type Deployment struct {
	ID          string // d-XXXXXXXXX, unique
	Application string
	GroupName   string
	GroupID     string
	Status      string // the DeploymentStatus
	Active      bool   // not finished yet: at most one per group is, by the caller's rule
	Created     time.Time
	Updated     time.Time
	Detail      []byte // the runner's JSON document
}

// DeploymentFilter selects deployments; zero fields select all.
type DeploymentFilter struct {
	Application   string
	GroupName     string // needs Application
	Statuses      []string
	ActiveOnly    bool
	CreatedAfter  time.Time // inclusive
	CreatedBefore time.Time // inclusive
}

// DeploymentTarget is one instance of a deployment.
type DeploymentTarget struct {
	DeploymentID string
	Instance     string
	Status       string // the InstanceStatus
	Updated      time.Time
	Detail       []byte // the runner's JSON document (lifecycle events, health)
}

// HostCommand is a lifecycle event handed to an instance's agent.
type HostCommand struct {
	ID           string // HostCommandIdentifier
	DeploymentID string
	Instance     string
	Name         string // the command (lifecycle event) name
	Status       string // Pending, InProgress, Succeeded or Failed
	Nonce        int64
	Created      time.Time
	Updated      time.Time
}

// HostCommandFilter selects host commands; zero fields select all.
type HostCommandFilter struct {
	Instance     string
	DeploymentID string
	Statuses     []string
}

// GroupInstance is an instance's state in a deployment group (its health
// and revision after the deployments so far).
type GroupInstance struct {
	GroupID  string
	Instance string
	Updated  time.Time
	Detail   []byte // the runner's JSON document
}

// DeploymentQueries are the queries of deployments. Listings return an
// empty, non-nil slice when nothing matches.
type DeploymentQueries interface {
	// CreateDeployment inserts d; ErrExists if the ID is taken. Zero times
	// are set to the current time.
	CreateDeployment(ctx context.Context, d *Deployment) error
	// GetDeployment returns a deployment by ID.
	GetDeployment(ctx context.Context, id string) (*Deployment, error)
	// UpdateDeployment stores d's status, activity and detail (and
	// d.Updated, the current time when zero); ErrNotFound if it does not
	// exist.
	UpdateDeployment(ctx context.Context, d *Deployment) error
	// ListDeployments returns the deployments f selects, by creation time
	// then ID.
	ListDeployments(ctx context.Context, f DeploymentFilter) ([]*Deployment, error)

	// PutDeploymentTarget inserts or replaces a target (a zero t.Updated
	// is set to the current time).
	PutDeploymentTarget(ctx context.Context, t *DeploymentTarget) error
	// GetDeploymentTarget returns one target of a deployment.
	GetDeploymentTarget(ctx context.Context, deploymentID, instance string) (*DeploymentTarget, error)
	// ListDeploymentTargets returns a deployment's targets by instance name.
	ListDeploymentTargets(ctx context.Context, deploymentID string) ([]*DeploymentTarget, error)

	// CreateHostCommand inserts c; ErrExists if the ID is taken. Zero
	// times are set to the current time.
	CreateHostCommand(ctx context.Context, c *HostCommand) error
	// GetHostCommand returns a host command by ID.
	GetHostCommand(ctx context.Context, id string) (*HostCommand, error)
	// UpdateHostCommand stores c's status and nonce (and c.Updated, the
	// current time when zero); ErrNotFound if it does not exist.
	UpdateHostCommand(ctx context.Context, c *HostCommand) error
	// ListHostCommands returns the commands f selects by creation time
	// then ID.
	ListHostCommands(ctx context.Context, f HostCommandFilter) ([]*HostCommand, error)

	// PutGroupInstance inserts or replaces an instance's state in a group
	// (a zero g.Updated is set to the current time).
	PutGroupInstance(ctx context.Context, g *GroupInstance) error
	// ListGroupInstances returns a group's instances by name.
	ListGroupInstances(ctx context.Context, groupID string) ([]*GroupInstance, error)
}
