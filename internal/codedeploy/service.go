// Package codedeploy implements the control plane of the CodeDeploy_20141006
// API (AWS CodeDeploy) over the store: applications, deployment
// configurations, deployment groups, on-premises instances and their tags,
// application revisions, and resource tags. It turns wire shapes (package
// cdapi) into stored records and back, and maps store errors to the
// model's exception names. Deployments themselves are not here yet; they
// will select their targets with [MatchInstances].
//
// Slipway deploys to servers, so only the EC2/On-Premises compute platform
// (computePlatform Server) exists, and only registered on-premises
// instances are targets:
//
//   - Lambda and ECS applications and deployment configurations are
//     refused with InvalidComputePlatformException; traffic routing and
//     zonal configurations likewise.
//   - A deployment group is in-place without a load balancer
//     (deploymentStyle IN_PLACE / WITHOUT_TRAFFIC_CONTROL); blue/green,
//     load balancers, EC2 tag filters, Auto Scaling groups and ECS
//     services are refused with the model's exception for each.
//   - The predefined configurations are CodeDeployDefault.OneAtATime,
//     HalfAtATime (FLEET_PERCENT 50) and AllAtOnce (FLEET_PERCENT 0).
//     OneAtATime reports minimumHealthyHosts {type MOST_CONCURRENCY,
//     value 1}, as the model's documentation of MinimumHealthyHosts says
//     GetDeploymentConfig does for it.
//   - RegisterOnPremisesInstance takes an IAM user ARN
//     (arn:aws:iam::<account>:user/<name>; a Slipway access key's user ARN
//     has this form) or an IAM session ARN
//     (arn:aws:sts::<account>:assumed-role/<role>/<session>). As the
//     session ARN Slipway also accepts the instance's own Slipway ARN,
//     arn:aws:codedeploy:<region>:<account>:instance/<instance name>, for a
//     host that signs its agent requests with a Slipway access key and has
//     no IAM identity at all. The registered ARN is the host identifier
//     the instance's agent sends.
package codedeploy

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/deploy"
	"github.com/slipway-cd/slipway/internal/store"
)

// SigningName is the SigV4 service name of CodeDeploy.
const SigningName = "codedeploy"

// ComputePlatformServer is the only compute platform Slipway deploys to.
const ComputePlatformServer = cdapi.ComputePlatformServer

// Limits are the quotas the service enforces; a zero field means its
// default (DefaultLimits).
type Limits struct {
	Applications      int // applications per account (1,000)
	DeploymentGroups  int // deployment groups per application (1,000)
	DeploymentConfigs int // custom deployment configurations per account (200)
	TagsPerResource   int // tags on an application or deployment group (50)
	InstanceTags      int // tags on an on-premises instance (10)
	PageSize          int // entries per page of a listing (100)
}

// DefaultLimits returns the quotas of the CodeDeploy user guide (§10.1).
// Custom deployment configurations: the quota table says 50, the guide's
// history raised it to 100 and then to 200; the latest figure is used.
func DefaultLimits() Limits {
	return Limits{Applications: 1000, DeploymentGroups: 1000, DeploymentConfigs: 200,
		TagsPerResource: 50, InstanceTags: 10, PageSize: 100}
}

// Fixed limits of the API (the model's documentation and the user guide).
const (
	maxBatchApplications    = 100  // BatchGetApplications
	maxBatchGroups          = 100  // BatchGetDeploymentGroups
	maxBatchInstances       = 100  // BatchGetOnPremisesInstances (§10.1)
	maxBatchRevisions       = 25   // BatchGetApplicationRevisions
	maxInstancesPerTagCall  = 100  // Add/RemoveTags...OnPremisesInstances
	maxTagGroups            = 3    // onPremisesTagSetList (§1.3)
	maxTagsPerGroup         = 10   // tags in one tag group (§1.3, §10.1)
	maxTriggers             = 10   // triggers per deployment group (§10.1)
	maxAlarms               = 10   // AlarmsLimitExceededException: "(10)"
	maxAlarmName            = 255  // InvalidAlarmConfigException
	maxTagKey               = 128  // §10.1
	maxTagValue             = 256  // §10.1
	maxRevisionDescription  = 1000 // DescriptionTooLongException
	maxTriggerNameLength    = 255
	maxInstanceNameLength   = 100
	defaultDeploymentConfig = ConfigOneAtATime
)

// Service serves the CodeDeploy API.
type Service struct {
	Store     store.Store
	Region    string
	AccountID string
	Limits    Limits
	Logger    *slog.Logger
	Now       func() time.Time // defaults to time.Now
	// Runner runs deployments (package deploy); without it the deployment
	// operations are not registered.
	Runner *deploy.Runner
}

// Register adds the service's operations to srv.
func (s *Service) Register(srv *awsproto.Server) {
	svc := awsproto.NewService(cdapi.TargetPrefix, SigningName, cdapi.Operations)
	awsproto.Handle(svc, "CreateApplication", s.CreateApplication)
	awsproto.Handle(svc, "GetApplication", s.GetApplication)
	awsproto.Handle(svc, "UpdateApplication", s.UpdateApplication)
	awsproto.Handle(svc, "DeleteApplication", s.DeleteApplication)
	awsproto.Handle(svc, "ListApplications", s.ListApplications)
	awsproto.Handle(svc, "BatchGetApplications", s.BatchGetApplications)

	awsproto.Handle(svc, "CreateDeploymentConfig", s.CreateDeploymentConfig)
	awsproto.Handle(svc, "GetDeploymentConfig", s.GetDeploymentConfig)
	awsproto.Handle(svc, "DeleteDeploymentConfig", s.DeleteDeploymentConfig)
	awsproto.Handle(svc, "ListDeploymentConfigs", s.ListDeploymentConfigs)

	awsproto.Handle(svc, "CreateDeploymentGroup", s.CreateDeploymentGroup)
	awsproto.Handle(svc, "UpdateDeploymentGroup", s.UpdateDeploymentGroup)
	awsproto.Handle(svc, "GetDeploymentGroup", s.GetDeploymentGroup)
	awsproto.Handle(svc, "DeleteDeploymentGroup", s.DeleteDeploymentGroup)
	awsproto.Handle(svc, "ListDeploymentGroups", s.ListDeploymentGroups)
	awsproto.Handle(svc, "BatchGetDeploymentGroups", s.BatchGetDeploymentGroups)

	awsproto.Handle(svc, "RegisterOnPremisesInstance", s.RegisterOnPremisesInstance)
	awsproto.Handle(svc, "DeregisterOnPremisesInstance", s.DeregisterOnPremisesInstance)
	awsproto.Handle(svc, "GetOnPremisesInstance", s.GetOnPremisesInstance)
	awsproto.Handle(svc, "ListOnPremisesInstances", s.ListOnPremisesInstances)
	awsproto.Handle(svc, "BatchGetOnPremisesInstances", s.BatchGetOnPremisesInstances)
	awsproto.Handle(svc, "AddTagsToOnPremisesInstances", s.AddTagsToOnPremisesInstances)
	awsproto.Handle(svc, "RemoveTagsFromOnPremisesInstances", s.RemoveTagsFromOnPremisesInstances)

	awsproto.Handle(svc, "RegisterApplicationRevision", s.RegisterApplicationRevision)
	awsproto.Handle(svc, "GetApplicationRevision", s.GetApplicationRevision)
	awsproto.Handle(svc, "ListApplicationRevisions", s.ListApplicationRevisions)
	awsproto.Handle(svc, "BatchGetApplicationRevisions", s.BatchGetApplicationRevisions)

	awsproto.Handle(svc, "TagResource", s.TagResource)
	awsproto.Handle(svc, "UntagResource", s.UntagResource)
	awsproto.Handle(svc, "ListTagsForResource", s.ListTagsForResource)
	if s.Runner != nil {
		registerDeployments(s, svc)
	}
	srv.Register(svc)
}

// limits returns s.Limits with the defaults filled in.
func (s *Service) limits() Limits {
	l, d := s.Limits, DefaultLimits()
	for _, f := range []struct {
		v   *int
		def int
	}{
		{&l.Applications, d.Applications}, {&l.DeploymentGroups, d.DeploymentGroups},
		{&l.DeploymentConfigs, d.DeploymentConfigs}, {&l.TagsPerResource, d.TagsPerResource},
		{&l.InstanceTags, d.InstanceTags}, {&l.PageSize, d.PageSize},
	} {
		if *f.v <= 0 {
			*f.v = f.def
		}
	}
	return l
}

func (s *Service) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return time.UnixMilli(now().UnixMilli()).UTC() // as the store keeps it
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// ApplicationARN returns the ARN of the named application.
func (s *Service) ApplicationARN(name string) string {
	return fmt.Sprintf("arn:aws:codedeploy:%s:%s:application:%s", s.Region, s.AccountID, name)
}

// DeploymentGroupARN returns the ARN of a deployment group.
func (s *Service) DeploymentGroupARN(application, group string) string {
	return fmt.Sprintf("arn:aws:codedeploy:%s:%s:deploymentgroup:%s/%s", s.Region, s.AccountID, application, group)
}

// InstanceARN returns the ARN of the named on-premises instance.
func (s *Service) InstanceARN(name string) string {
	return fmt.Sprintf("arn:aws:codedeploy:%s:%s:instance/%s", s.Region, s.AccountID, name)
}

// storeErr maps a store error to the API: not-found and exists errors become
// the exception given for them, anything else stays an internal error.
func storeErr(err error, notFound, exists *awsproto.Error) error {
	switch {
	case err == nil:
		return nil
	case notFound != nil && errors.Is(err, store.ErrNotFound):
		return notFound
	case exists != nil && errors.Is(err, store.ErrExists):
		return exists
	}
	return err
}

func applicationNotFound(name string) *awsproto.Error {
	return awsproto.Errorf(cdapi.ApplicationDoesNotExistException, "application %q does not exist; ListApplications shows the applications there are", name)
}

func groupNotFound(application, group string) *awsproto.Error {
	return awsproto.Errorf(cdapi.DeploymentGroupDoesNotExistException, "application %q has no deployment group %q; ListDeploymentGroups shows its groups", application, group)
}

// getApplication reads an application, ApplicationDoesNotExistException if
// there is none.
func getApplication(ctx context.Context, q store.Queries, name string) (*store.Application, error) {
	a, err := q.GetApplication(ctx, name)
	if err != nil {
		return nil, storeErr(err, applicationNotFound(name), nil)
	}
	return a, nil
}

// Pagination tokens are opaque: a listing's kind and its position, so a
// token of one listing is refused by another.

func encodeToken(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + kind + ":" + key))
}

func decodeToken(kind, token string) (string, error) {
	return decodeTokenAs(kind, token, cdapi.InvalidNextTokenException)
}

// decodeTokenAs is decodeToken reporting a bad token as code, for the
// operations that model no InvalidNextTokenException.
func decodeTokenAs(kind, token, code string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	key, ok := strings.CutPrefix(string(b), "v1:"+kind+":")
	if err != nil || !ok {
		return "", awsproto.Errorf(code, "the nextToken is not one this listing returned; start the listing again without it")
	}
	return key, nil
}

// page returns the entries of sorted names after the token's position, at
// most size of them, and the token of the next page ("" at the end).
func page(kind string, names []string, token string, size int) ([]string, string, error) {
	after, err := decodeToken(kind, token)
	if err != nil {
		return nil, "", err
	}
	out := make([]string, 0, min(len(names), size))
	for _, n := range names {
		if after != "" && n <= after {
			continue
		}
		if len(out) == size {
			return out, encodeToken(kind, out[size-1]), nil
		}
		out = append(out, n)
	}
	return out, "", nil
}
