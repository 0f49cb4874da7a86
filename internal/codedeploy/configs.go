package codedeploy

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/uuid"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// Names of the predefined EC2/on-premises deployment configurations
// (reference §3.1).
const (
	// ConfigOneAtATime is the default configuration of deployment groups
	// and deployments.
	ConfigOneAtATime  = "CodeDeployDefault.OneAtATime"
	ConfigHalfAtATime = "CodeDeployDefault.HalfAtATime"
	ConfigAllAtOnce   = "CodeDeployDefault.AllAtOnce"
	// predefinedPrefix starts the names of every predefined configuration,
	// those of Lambda and ECS included; custom names may not use it.
	predefinedPrefix = "CodeDeployDefault."
)

// MinHealthyMostConcurrency is the minimum healthy hosts type
// GetDeploymentConfig reports for CodeDeployDefault.OneAtATime (value 1),
// per the model's documentation of MinimumHealthyHosts. It cannot be set
// on a custom configuration.
const MinHealthyMostConcurrency = "MOST_CONCURRENCY"

// predefinedConfigs are the predefined Server configurations, by name:
// minimum healthy hosts of §3.1's table (1 host, 50%, 0).
var predefinedConfigs = map[string]cdapi.MinimumHealthyHosts{
	ConfigOneAtATime:  {Type: MinHealthyMostConcurrency, Value: aws.Int32(1)},
	ConfigHalfAtATime: {Type: cdapi.MinimumHealthyHostsTypeFleetPercent, Value: aws.Int32(50)},
	ConfigAllAtOnce:   {Type: cdapi.MinimumHealthyHostsTypeFleetPercent, Value: aws.Int32(0)},
}

// predefinedConfigID is a predefined configuration's ID: stable, derived
// from its name.
func predefinedConfigID(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://slipway.dev/deploymentconfig/"+name)).String()
}

// IsPredefinedConfig reports whether name is one of the predefined Server
// configurations.
func IsPredefinedConfig(name string) bool {
	_, ok := predefinedConfigs[name]
	return ok
}

func predefinedConfigInfo(name string) *cdapi.DeploymentConfigInfo {
	m := predefinedConfigs[name]
	return &cdapi.DeploymentConfigInfo{
		DeploymentConfigId:   predefinedConfigID(name),
		DeploymentConfigName: name,
		ComputePlatform:      ComputePlatformServer,
		MinimumHealthyHosts:  &cdapi.MinimumHealthyHosts{Type: m.Type, Value: aws.Int32(*m.Value)},
	}
}

func customConfigInfo(c *store.DeploymentConfig) *cdapi.DeploymentConfigInfo {
	return &cdapi.DeploymentConfigInfo{
		DeploymentConfigId:   c.ID,
		DeploymentConfigName: c.Name,
		ComputePlatform:      c.ComputePlatform,
		CreateTime:           awsproto.NewTime(c.Created),
		MinimumHealthyHosts:  &cdapi.MinimumHealthyHosts{Type: c.MinHealthyType, Value: aws.Int32(c.MinHealthyValue)},
	}
}

func configNotFound(name string) *awsproto.Error {
	if strings.HasPrefix(name, predefinedPrefix) {
		return awsproto.Errorf(cdapi.DeploymentConfigDoesNotExistException,
			"deployment configuration %q does not exist here: the predefined configurations of Slipway, which deploys to servers, are %s, %s and %s",
			name, ConfigOneAtATime, ConfigHalfAtATime, ConfigAllAtOnce)
	}
	return awsproto.Errorf(cdapi.DeploymentConfigDoesNotExistException, "deployment configuration %q does not exist; ListDeploymentConfigs shows the configurations there are", name)
}

// resolveConfig checks that a deployment group may use the named
// configuration: a predefined Server configuration or an existing custom
// one. Other CodeDeployDefault.* names (Lambda and ECS configurations) are
// invalid for a Server deployment group.
func resolveConfig(ctx context.Context, q store.Queries, name string) error {
	if IsPredefinedConfig(name) {
		return nil
	}
	if strings.HasPrefix(name, predefinedPrefix) {
		return awsproto.Errorf(cdapi.InvalidDeploymentConfigNameException,
			"%q is not a configuration for servers: a deployment group uses %s, %s, %s or a custom configuration",
			name, ConfigOneAtATime, ConfigHalfAtATime, ConfigAllAtOnce)
	}
	_, err := q.GetDeploymentConfig(ctx, name)
	return storeErr(err, configNotFound(name), nil)
}

// checkMinimumHealthyHosts validates a custom configuration's minimum:
// HOST_COUNT of 0 or more hosts, or FLEET_PERCENT from 0 to 99 (at 100
// no host could ever be taken offline).
func checkMinimumHealthyHosts(m *cdapi.MinimumHealthyHosts) error {
	if m == nil {
		return awsproto.Errorf(cdapi.InvalidMinimumHealthyHostValueException,
			"minimumHealthyHosts is required for a Server deployment configuration, e.g. {\"type\": \"FLEET_PERCENT\", \"value\": 75}")
	}
	// A missing value is 0: the Go SDK leaves a zero value out.
	v := aws.ToInt32(m.Value)
	switch m.Type {
	case cdapi.MinimumHealthyHostsTypeHostCount:
		if v < 0 {
			return awsproto.Errorf(cdapi.InvalidMinimumHealthyHostValueException, "a HOST_COUNT minimum of %d hosts is negative; use 0 or more", v)
		}
	case cdapi.MinimumHealthyHostsTypeFleetPercent:
		if v < 0 || v > 99 {
			return awsproto.Errorf(cdapi.InvalidMinimumHealthyHostValueException, "a FLEET_PERCENT minimum of %d is out of range; use 0 to 99", v)
		}
	case "":
		return awsproto.Errorf(cdapi.InvalidMinimumHealthyHostValueException, "minimumHealthyHosts.type is required: HOST_COUNT or FLEET_PERCENT")
	default:
		return awsproto.Errorf(cdapi.InvalidMinimumHealthyHostValueException, "minimumHealthyHosts.type %q is not HOST_COUNT or FLEET_PERCENT", m.Type)
	}
	return nil
}

// CreateDeploymentConfig creates a custom Server configuration.
func (s *Service) CreateDeploymentConfig(ctx context.Context, in *cdapi.CreateDeploymentConfigInput) (*cdapi.CreateDeploymentConfigOutput, error) {
	name := in.DeploymentConfigName
	switch {
	case IsPredefinedConfig(name):
		return nil, awsproto.Errorf(cdapi.DeploymentConfigAlreadyExistsException, "%q is a predefined deployment configuration", name)
	case strings.HasPrefix(name, predefinedPrefix):
		return nil, awsproto.Errorf(cdapi.InvalidDeploymentConfigNameException, "deployment configuration names starting with %q are reserved for predefined configurations", predefinedPrefix)
	}
	if err := checkComputePlatform(in.ComputePlatform, "a deployment configuration"); err != nil {
		return nil, err
	}
	if in.TrafficRoutingConfig != nil {
		return nil, awsproto.Errorf(cdapi.InvalidTrafficRoutingConfigurationException,
			"trafficRoutingConfig applies to Lambda and ECS deployments; a Server configuration has minimumHealthyHosts only")
	}
	if in.ZonalConfig != nil {
		return nil, awsproto.Errorf(cdapi.InvalidZonalDeploymentConfigurationException,
			"zonalConfig deploys one EC2 Availability Zone at a time; Slipway deploys to on-premises instances, which have no Availability Zone")
	}
	if err := checkMinimumHealthyHosts(in.MinimumHealthyHosts); err != nil {
		return nil, err
	}
	c := &store.DeploymentConfig{Name: name, ID: uuid.NewString(), ComputePlatform: ComputePlatformServer,
		MinHealthyType: in.MinimumHealthyHosts.Type, MinHealthyValue: aws.ToInt32(in.MinimumHealthyHosts.Value), Created: s.now()}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		n, err := q.CountDeploymentConfigs(ctx)
		if err != nil {
			return err
		}
		if limit := s.limits().DeploymentConfigs; n >= limit {
			return awsproto.Errorf(cdapi.DeploymentConfigLimitExceededException, "this account already has %d custom deployment configurations, the most it may have", n)
		}
		return storeErr(q.CreateDeploymentConfig(ctx, c), nil,
			awsproto.Errorf(cdapi.DeploymentConfigAlreadyExistsException, "a deployment configuration named %q already exists", name))
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "deployment config created", "deployment_config", name)
	return &cdapi.CreateDeploymentConfigOutput{DeploymentConfigId: c.ID}, nil
}

// GetDeploymentConfig returns a predefined or custom configuration.
func (s *Service) GetDeploymentConfig(ctx context.Context, in *cdapi.GetDeploymentConfigInput) (*cdapi.GetDeploymentConfigOutput, error) {
	if IsPredefinedConfig(in.DeploymentConfigName) {
		return &cdapi.GetDeploymentConfigOutput{DeploymentConfigInfo: predefinedConfigInfo(in.DeploymentConfigName)}, nil
	}
	c, err := s.Store.GetDeploymentConfig(ctx, in.DeploymentConfigName)
	if err != nil {
		return nil, storeErr(err, configNotFound(in.DeploymentConfigName), nil)
	}
	return &cdapi.GetDeploymentConfigOutput{DeploymentConfigInfo: customConfigInfo(c)}, nil
}

// DeleteDeploymentConfig deletes a custom configuration no deployment
// group uses. Predefined configurations cannot be deleted. Deleting one
// that does not exist succeeds: the model has no not-found error here.
func (s *Service) DeleteDeploymentConfig(ctx context.Context, in *cdapi.DeleteDeploymentConfigInput) (*struct{}, error) {
	name := in.DeploymentConfigName
	if strings.HasPrefix(name, predefinedPrefix) {
		return nil, awsproto.Errorf(cdapi.InvalidOperationException, "%q is a predefined deployment configuration, which cannot be deleted", name)
	}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		n, err := q.CountDeploymentGroupsByConfig(ctx, name)
		if err != nil {
			return err
		}
		if n > 0 {
			return awsproto.Errorf(cdapi.DeploymentConfigInUseException,
				"deployment configuration %q is used by %d deployment group(s); give them another configuration first", name, n)
		}
		if err := q.DeleteDeploymentConfig(ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "deployment config deleted", "deployment_config", name)
	return nil, nil
}

// ListDeploymentConfigs returns the names of the predefined and custom
// configurations in byte order, paged.
func (s *Service) ListDeploymentConfigs(ctx context.Context, in *cdapi.ListDeploymentConfigsInput) (*cdapi.ListDeploymentConfigsOutput, error) {
	custom, err := s.Store.ListDeploymentConfigs(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(predefinedConfigs)+len(custom))
	for n := range predefinedConfigs {
		names = append(names, n)
	}
	for _, c := range custom {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	list, next, err := page("deploymentconfigs", names, in.NextToken, s.limits().PageSize)
	if err != nil {
		return nil, err
	}
	return &cdapi.ListDeploymentConfigsOutput{DeploymentConfigsList: list, NextToken: next}, nil
}
