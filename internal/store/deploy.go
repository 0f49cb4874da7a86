package store

import (
	"context"
	"time"
)

// The CodeDeploy control plane's records: applications, custom deployment
// configurations, deployment groups, on-premises instances with their tags,
// and application revisions (tables in migrations/*/0004_deploy.sql). The
// store knows nothing of the wire shapes: a deployment group is a JSON
// document the codedeploy package writes, kept next to the columns the
// store must index (application, name, ID, deployment configuration).

// Registration statuses of an on-premises instance, as the API spells them.
const (
	InstanceRegistered   = "Registered"
	InstanceDeregistered = "Deregistered"
)

// Application is a CodeDeploy application.
type Application struct {
	Name            string // unique
	ID              string // unique, kept across renames
	ComputePlatform string // "Server"
	Created         time.Time
}

// DeploymentConfig is a custom deployment configuration; the predefined
// CodeDeployDefault.* configurations are not stored.
type DeploymentConfig struct {
	Name            string
	ID              string
	ComputePlatform string
	MinHealthyType  string // HOST_COUNT or FLEET_PERCENT
	MinHealthyValue int32
	Created         time.Time
}

// DeploymentGroup is a deployment group of an application. Application,
// Name, ID and ConfigName are authoritative; Info is the rest of the group
// as JSON (cdapi.DeploymentGroupInfo), whose copies of those four fields
// may be stale after a rename.
type DeploymentGroup struct {
	Application string
	Name        string // unique within Application
	ID          string // unique, kept across renames
	ConfigName  string // the deployment configuration's name
	Info        []byte
	Created     time.Time
	Updated     time.Time
}

// OnPremisesInstance is a registered (or deregistered) on-premises
// instance. Exactly one of IAMUserARN and IAMSessionARN is set.
type OnPremisesInstance struct {
	Name          string
	IAMUserARN    string
	IAMSessionARN string
	InstanceARN   string
	Registered    time.Time
	Deregistered  time.Time // zero while registered
	Tags          []Tag     // ordered by key; one value per key
}

// IsRegistered reports whether the instance is registered now.
func (i *OnPremisesInstance) IsRegistered() bool { return i.Deregistered.IsZero() }

// InstanceFilter selects on-premises instances: by registration status
// (InstanceRegistered, InstanceDeregistered, or "" for both), and a page
// of names after After.
type InstanceFilter struct {
	Status string
	Page
}

// ApplicationRevision is a registered revision of an application.
type ApplicationRevision struct {
	Application string
	// Key identifies the revision within its application: the codedeploy
	// package derives it from the location (S3 bucket, key, version and
	// ETag; or GitHub repository and commit).
	Key         string
	Type        string // S3 or GitHub
	Location    []byte // JSON of the revision location (cdapi.RevisionLocation)
	Description string
	S3Bucket    string // "" unless Type is S3; for the listing filters
	S3Key       string
	Registered  time.Time
	FirstUsed   time.Time // zero until a deployment uses it
	LastUsed    time.Time // zero until a deployment uses it
}

// DeployQueries are the queries of the CodeDeploy control plane. Names are
// compared byte-wise. Listings return an empty, non-nil slice when nothing
// matches.
type DeployQueries interface {
	// CreateApplication inserts a; ErrExists if the name (or ID) is taken.
	// A zero a.Created is set to the current time.
	CreateApplication(ctx context.Context, a *Application) error
	// GetApplication returns the named application.
	GetApplication(ctx context.Context, name string) (*Application, error)
	// RenameApplication renames an application, its deployment groups and
	// its revisions; ErrNotFound if oldName does not exist, ErrExists if
	// newName does.
	RenameApplication(ctx context.Context, oldName, newName string) error
	// DeleteApplication removes an application with its deployment groups
	// and revisions; ErrNotFound if it does not exist.
	DeleteApplication(ctx context.Context, name string) error
	// ListApplications returns applications ordered by name.
	ListApplications(ctx context.Context, page Page) ([]*Application, error)
	// CountApplications returns how many applications exist.
	CountApplications(ctx context.Context) (int, error)

	// CreateDeploymentConfig inserts a custom configuration; ErrExists if
	// the name is taken. A zero c.Created is set to the current time.
	CreateDeploymentConfig(ctx context.Context, c *DeploymentConfig) error
	// GetDeploymentConfig returns the named custom configuration.
	GetDeploymentConfig(ctx context.Context, name string) (*DeploymentConfig, error)
	// DeleteDeploymentConfig removes a custom configuration; ErrNotFound if
	// it does not exist.
	DeleteDeploymentConfig(ctx context.Context, name string) error
	// ListDeploymentConfigs returns every custom configuration by name.
	ListDeploymentConfigs(ctx context.Context) ([]*DeploymentConfig, error)
	// CountDeploymentConfigs returns how many custom configurations exist.
	CountDeploymentConfigs(ctx context.Context) (int, error)

	// CreateDeploymentGroup inserts g; ErrExists if its application has a
	// group of that name (or the ID is taken). Zero times are set to the
	// current time.
	CreateDeploymentGroup(ctx context.Context, g *DeploymentGroup) error
	// GetDeploymentGroup returns one group of an application.
	GetDeploymentGroup(ctx context.Context, application, name string) (*DeploymentGroup, error)
	// GetDeploymentGroupByID returns the group with the given ID.
	GetDeploymentGroupByID(ctx context.Context, id string) (*DeploymentGroup, error)
	// UpdateDeploymentGroup replaces the group g.Application/oldName with
	// g, which may carry a new name (a rename); its ID and creation time
	// are kept. ErrNotFound if the group does not exist, ErrExists if the
	// new name is taken. A zero g.Updated is set to the current time.
	UpdateDeploymentGroup(ctx context.Context, oldName string, g *DeploymentGroup) error
	// DeleteDeploymentGroup removes a group; ErrNotFound if it does not
	// exist.
	DeleteDeploymentGroup(ctx context.Context, application, name string) error
	// ListDeploymentGroups returns an application's groups by name.
	ListDeploymentGroups(ctx context.Context, application string, page Page) ([]*DeploymentGroup, error)
	// CountDeploymentGroups returns how many groups an application has.
	CountDeploymentGroups(ctx context.Context, application string) (int, error)
	// CountDeploymentGroupsByConfig returns how many groups, of any
	// application, use the named deployment configuration.
	CountDeploymentGroupsByConfig(ctx context.Context, config string) (int, error)

	// RegisterOnPremisesInstance inserts a registered instance with its
	// tags, replacing a deregistered instance of the same name (and that
	// one's tags); ErrExists if a registered instance has the name. A zero
	// i.Registered is set to the current time; i.Deregistered must be
	// zero.
	RegisterOnPremisesInstance(ctx context.Context, i *OnPremisesInstance) error
	// GetOnPremisesInstance returns the named instance, registered or not,
	// with its tags.
	GetOnPremisesInstance(ctx context.Context, name string) (*OnPremisesInstance, error)
	// FindOnPremisesInstanceByIAMARN returns the registered instance whose
	// IAM user or session ARN is arn.
	FindOnPremisesInstanceByIAMARN(ctx context.Context, arn string) (*OnPremisesInstance, error)
	// DeregisterOnPremisesInstance marks a registered instance deregistered
	// at the given time (the current time when zero), keeping its tags;
	// ErrNotFound if no registered instance has the name.
	DeregisterOnPremisesInstance(ctx context.Context, name string, at time.Time) error
	// ListOnPremisesInstances returns the instances f selects, with their
	// tags, ordered by name.
	ListOnPremisesInstances(ctx context.Context, f InstanceFilter) ([]*OnPremisesInstance, error)
	// BatchGetOnPremisesInstances returns the named instances that exist,
	// with their tags, ordered by name.
	BatchGetOnPremisesInstances(ctx context.Context, names []string) ([]*OnPremisesInstance, error)
	// PutOnPremisesInstanceTags adds tags to an instance or replaces the
	// values of its tags with the same keys; ErrNotFound if the instance
	// does not exist.
	PutOnPremisesInstanceTags(ctx context.Context, name string, tags []Tag) error
	// RemoveOnPremisesInstanceTags removes the instance's tags with the
	// given keys; a tag with a non-empty Value is removed only if the
	// value matches too. ErrNotFound if the instance does not exist.
	RemoveOnPremisesInstanceTags(ctx context.Context, name string, tags []Tag) error

	// PutApplicationRevision registers r, or, if the application already
	// has a revision with r.Key, replaces its location and description,
	// keeping its registration and usage times (written back to r). A zero
	// r.Registered is set to the current time.
	PutApplicationRevision(ctx context.Context, r *ApplicationRevision) error
	// GetApplicationRevision returns one revision of an application.
	GetApplicationRevision(ctx context.Context, application, key string) (*ApplicationRevision, error)
	// ListApplicationRevisions returns every revision of an application,
	// ordered by registration time, then key.
	ListApplicationRevisions(ctx context.Context, application string) ([]*ApplicationRevision, error)
	// MarkApplicationRevisionUsed records that a deployment used the
	// revision at the given time: the first use time is set once, the
	// last use time every time. ErrNotFound if the revision does not
	// exist.
	MarkApplicationRevisionUsed(ctx context.Context, application, key string, at time.Time) error
}
