package codedeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/uuid"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// groupSpec is what CreateDeploymentGroup and UpdateDeploymentGroup have
// in common. For an update, a nil member leaves the group's setting alone
// and a non-nil one, an empty list included, replaces it.
type groupSpec struct {
	DeploymentConfigName             string
	Ec2TagFilters                    []cdapi.EC2TagFilter
	OnPremisesInstanceTagFilters     []cdapi.TagFilter
	AutoScalingGroups                []string
	ServiceRoleArn                   string
	TriggerConfigurations            []cdapi.TriggerConfig
	AlarmConfiguration               *cdapi.AlarmConfiguration
	AutoRollbackConfiguration        *cdapi.AutoRollbackConfiguration
	OutdatedInstancesStrategy        string
	DeploymentStyle                  *cdapi.DeploymentStyle
	BlueGreenDeploymentConfiguration *cdapi.BlueGreenDeploymentConfiguration
	LoadBalancerInfo                 *cdapi.LoadBalancerInfo
	Ec2TagSet                        *cdapi.EC2TagSet
	EcsServices                      []cdapi.ECSService
	OnPremisesTagSet                 *cdapi.OnPremisesTagSet
	TerminationHookEnabled           *bool
}

// roleARN is an IAM role ARN, the form of serviceRoleArn.
var roleARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/([\x21-\x7e]+/)*[\w+=,.@-]{1,64}$`)

// checkSpec validates a spec on its own (the store is not consulted):
// what Slipway cannot deploy to is refused with the model's exception for
// it, and the tag filters, tag set, triggers, alarms and rollback settings
// are checked against the model's rules and the guide's quotas.
func checkSpec(sp *groupSpec) error {
	switch {
	case len(sp.Ec2TagFilters) > 0 || (sp.Ec2TagSet != nil && len(sp.Ec2TagSet.Ec2TagSetList) > 0):
		return awsproto.Errorf(cdapi.InvalidEC2TagException,
			"Slipway has no EC2 instances to filter: it deploys to registered on-premises instances; select them with onPremisesInstanceTagFilters or onPremisesTagSet")
	case len(sp.AutoScalingGroups) > 0:
		return awsproto.Errorf(cdapi.InvalidAutoScalingGroupException,
			"Slipway does not manage Auto Scaling groups; it deploys to registered on-premises instances")
	case sp.LoadBalancerInfo != nil && (len(sp.LoadBalancerInfo.ElbInfoList) > 0 || len(sp.LoadBalancerInfo.TargetGroupInfoList) > 0 || len(sp.LoadBalancerInfo.TargetGroupPairInfoList) > 0):
		return awsproto.Errorf(cdapi.InvalidLoadBalancerInfoException,
			"Slipway deploys in place without a load balancer; leave loadBalancerInfo out")
	case sp.BlueGreenDeploymentConfiguration != nil:
		return awsproto.Errorf(cdapi.InvalidBlueGreenDeploymentConfigurationException,
			"blue/green deployments are not supported (on-premises instances support in-place deployments only); leave blueGreenDeploymentConfiguration out")
	case len(sp.EcsServices) > 0:
		return awsproto.Errorf(cdapi.InvalidECSServiceException, "Slipway deploys to servers; ECS services are not supported")
	case sp.TerminationHookEnabled != nil && *sp.TerminationHookEnabled:
		return awsproto.Errorf(cdapi.InvalidInputException, "terminationHookEnabled applies to Auto Scaling groups, which Slipway does not manage")
	case sp.ServiceRoleArn != "" && !roleARN.MatchString(sp.ServiceRoleArn):
		return awsproto.Errorf(cdapi.InvalidRoleException, "serviceRoleArn %q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", sp.ServiceRoleArn)
	}
	if st := sp.DeploymentStyle; st != nil {
		if st.DeploymentType == cdapi.DeploymentTypeBlueGreen {
			return awsproto.Errorf(cdapi.InvalidDeploymentStyleException,
				"deploymentType BLUE_GREEN is not supported: Slipway deploys in place (IN_PLACE) to on-premises instances")
		}
		if st.DeploymentOption == cdapi.DeploymentOptionWithTrafficControl {
			return awsproto.Errorf(cdapi.InvalidDeploymentStyleException,
				"deploymentOption WITH_TRAFFIC_CONTROL needs a load balancer, which Slipway does not manage; use WITHOUT_TRAFFIC_CONTROL")
		}
	}
	if err := checkTagSelection(sp.OnPremisesInstanceTagFilters, sp.OnPremisesTagSet); err != nil {
		return err
	}
	if err := checkTriggers(sp.TriggerConfigurations); err != nil {
		return err
	}
	if err := checkAlarms(sp.AlarmConfiguration); err != nil {
		return err
	}
	if rb := sp.AutoRollbackConfiguration; rb != nil && aws.ToBool(rb.Enabled) && len(rb.Events) == 0 {
		return awsproto.Errorf(cdapi.InvalidAutoRollbackConfigException,
			"automatic rollback is enabled but no events are given: use DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM or DEPLOYMENT_STOP_ON_REQUEST")
	}
	return nil
}

// checkTagSelection checks the on-premises tag filters and tag set of a
// call: only one of the two (InvalidOnPremisesTagCombinationException), at
// most 3 tag groups (TagSetListLimitExceededException), at most 10 tags in
// a group or in the filter list, and each filter well formed
// (InvalidTagException: the deployment group operations model no
// TagLimitExceededException).
func checkTagSelection(filters []cdapi.TagFilter, set *cdapi.OnPremisesTagSet) error {
	hasSet := set != nil && len(set.OnPremisesTagSetList) > 0
	if len(filters) > 0 && hasSet {
		return awsproto.Errorf(cdapi.InvalidOnPremisesTagCombinationException,
			"onPremisesInstanceTagFilters and onPremisesTagSet cannot be used together: use the filters for one tag group, or the tag set for up to %d groups", maxTagGroups)
	}
	if len(filters) > maxTagsPerGroup {
		return awsproto.Errorf(cdapi.InvalidTagException, "%d tag filters given; a tag group has at most %d", len(filters), maxTagsPerGroup)
	}
	for i, f := range filters {
		if err := checkTagFilter(f, where("onPremisesInstanceTagFilters", i), cdapi.InvalidTagException); err != nil {
			return err
		}
	}
	if !hasSet {
		return nil
	}
	list := set.OnPremisesTagSetList
	if len(list) > maxTagGroups {
		return awsproto.Errorf(cdapi.TagSetListLimitExceededException, "the tag set has %d tag groups; at most %d are allowed", len(list), maxTagGroups)
	}
	for i, group := range list {
		at := where("onPremisesTagSet.onPremisesTagSetList", i)
		switch {
		case len(group) == 0:
			return awsproto.Errorf(cdapi.InvalidTagException, "%s: a tag group needs at least one tag filter", at)
		case len(group) > maxTagsPerGroup:
			return awsproto.Errorf(cdapi.InvalidTagException, "%s has %d tag filters; a tag group has at most %d", at, len(group), maxTagsPerGroup)
		}
		for j, f := range group {
			if err := checkTagFilter(f, where(at, j), cdapi.InvalidTagException); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkTriggers(triggers []cdapi.TriggerConfig) error {
	if len(triggers) > maxTriggers {
		return awsproto.Errorf(cdapi.TriggerTargetsLimitExceededException, "%d triggers given; a deployment group has at most %d", len(triggers), maxTriggers)
	}
	names := map[string]bool{}
	for i, t := range triggers {
		at := where("triggerConfigurations", i)
		switch {
		case t.TriggerName == "":
			return awsproto.Errorf(cdapi.InvalidTriggerConfigException, "%s: triggerName is required", at)
		case utf8.RuneCountInString(t.TriggerName) > maxTriggerNameLength:
			return awsproto.Errorf(cdapi.InvalidTriggerConfigException, "%s: triggerName is longer than %d characters", at, maxTriggerNameLength)
		case names[t.TriggerName]:
			return awsproto.Errorf(cdapi.InvalidTriggerConfigException, "%s: trigger name %q is used twice", at, t.TriggerName)
		case !strings.HasPrefix(t.TriggerTargetArn, "arn:"):
			return awsproto.Errorf(cdapi.InvalidTriggerConfigException, "%s: triggerTargetArn %q is not an ARN", at, t.TriggerTargetArn)
		case len(t.TriggerEvents) == 0:
			return awsproto.Errorf(cdapi.InvalidTriggerConfigException, "%s: triggerEvents lists no events", at)
		}
		names[t.TriggerName] = true
	}
	return nil
}

func checkAlarms(a *cdapi.AlarmConfiguration) error {
	if a == nil {
		return nil
	}
	if len(a.Alarms) > maxAlarms {
		return awsproto.Errorf(cdapi.AlarmsLimitExceededException, "%d alarms given; a deployment group has at most %d", len(a.Alarms), maxAlarms)
	}
	names := map[string]bool{}
	for i, al := range a.Alarms {
		at := where("alarmConfiguration.alarms", i)
		switch {
		case al.Name == "":
			return awsproto.Errorf(cdapi.InvalidAlarmConfigException, "%s: the alarm name is empty", at)
		case utf8.RuneCountInString(al.Name) > maxAlarmName:
			return awsproto.Errorf(cdapi.InvalidAlarmConfigException, "%s: the alarm name is longer than %d characters", at, maxAlarmName)
		case names[al.Name]:
			return awsproto.Errorf(cdapi.InvalidAlarmConfigException, "%s: alarm %q is listed twice", at, al.Name)
		}
		names[al.Name] = true
	}
	if aws.ToBool(a.Enabled) && len(a.Alarms) == 0 {
		return awsproto.Errorf(cdapi.InvalidAlarmConfigException, "the alarm configuration is enabled but lists no alarms")
	}
	return nil
}

// applySpec writes the settings sp gives into info (after checkSpec).
func applySpec(info *cdapi.DeploymentGroupInfo, sp *groupSpec) {
	if sp.DeploymentConfigName != "" {
		info.DeploymentConfigName = sp.DeploymentConfigName
	}
	if sp.ServiceRoleArn != "" {
		info.ServiceRoleArn = sp.ServiceRoleArn
	}
	// One of filters and set: giving one (non-empty) replaces the other.
	if sp.OnPremisesInstanceTagFilters != nil {
		info.OnPremisesInstanceTagFilters = sp.OnPremisesInstanceTagFilters
		if len(sp.OnPremisesInstanceTagFilters) > 0 {
			info.OnPremisesTagSet = nil
		}
	}
	if sp.OnPremisesTagSet != nil {
		info.OnPremisesTagSet = sp.OnPremisesTagSet
		if len(sp.OnPremisesTagSet.OnPremisesTagSetList) > 0 {
			info.OnPremisesInstanceTagFilters = nil
		} else {
			info.OnPremisesTagSet = nil
		}
	}
	if len(info.OnPremisesInstanceTagFilters) == 0 {
		info.OnPremisesInstanceTagFilters = nil
	}
	if sp.TriggerConfigurations != nil {
		info.TriggerConfigurations = sp.TriggerConfigurations
		if len(info.TriggerConfigurations) == 0 {
			info.TriggerConfigurations = nil
		}
	}
	if a := sp.AlarmConfiguration; a != nil {
		info.AlarmConfiguration = &cdapi.AlarmConfiguration{
			Alarms: a.Alarms, Enabled: aws.Bool(aws.ToBool(a.Enabled)), IgnorePollAlarmFailure: aws.Bool(aws.ToBool(a.IgnorePollAlarmFailure)),
		}
	}
	if rb := sp.AutoRollbackConfiguration; rb != nil {
		info.AutoRollbackConfiguration = &cdapi.AutoRollbackConfiguration{Enabled: aws.Bool(aws.ToBool(rb.Enabled)), Events: dedupe(rb.Events)}
		if len(info.AutoRollbackConfiguration.Events) == 0 {
			info.AutoRollbackConfiguration.Events = nil
		}
	}
	if sp.OutdatedInstancesStrategy != "" {
		info.OutdatedInstancesStrategy = sp.OutdatedInstancesStrategy
	}
	// In-place without traffic control is the only style (checkSpec).
	if sp.DeploymentStyle != nil || info.DeploymentStyle == nil {
		info.DeploymentStyle = &cdapi.DeploymentStyle{DeploymentType: cdapi.DeploymentTypeInPlace, DeploymentOption: cdapi.DeploymentOptionWithoutTrafficControl}
	}
}

// decodeGroup returns a stored group's info with its authoritative fields
// (application, name, ID, configuration) from the row.
func decodeGroup(g *store.DeploymentGroup) (*cdapi.DeploymentGroupInfo, error) {
	var info cdapi.DeploymentGroupInfo
	if len(g.Info) > 0 {
		if err := json.Unmarshal(g.Info, &info); err != nil {
			return nil, fmt.Errorf("decode deployment group %q of application %q: %w", g.Name, g.Application, err)
		}
	}
	info.ApplicationName, info.DeploymentGroupName, info.DeploymentGroupId = g.Application, g.Name, g.ID
	info.DeploymentConfigName = g.ConfigName
	info.ComputePlatform = ComputePlatformServer
	return &info, nil
}

func encodeGroup(g *store.DeploymentGroup, info *cdapi.DeploymentGroupInfo) error {
	info.ApplicationName, info.DeploymentGroupName, info.DeploymentGroupId = g.Application, g.Name, g.ID
	g.ConfigName = info.DeploymentConfigName
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encode deployment group %q: %w", g.Name, err)
	}
	g.Info = b
	return nil
}

// CreateDeploymentGroup creates a deployment group of on-premises instances.
func (s *Service) CreateDeploymentGroup(ctx context.Context, in *cdapi.CreateDeploymentGroupInput) (*cdapi.CreateDeploymentGroupOutput, error) {
	sp := &groupSpec{
		DeploymentConfigName: in.DeploymentConfigName, Ec2TagFilters: in.Ec2TagFilters,
		OnPremisesInstanceTagFilters: in.OnPremisesInstanceTagFilters, AutoScalingGroups: in.AutoScalingGroups,
		ServiceRoleArn: in.ServiceRoleArn, TriggerConfigurations: in.TriggerConfigurations,
		AlarmConfiguration: in.AlarmConfiguration, AutoRollbackConfiguration: in.AutoRollbackConfiguration,
		OutdatedInstancesStrategy: in.OutdatedInstancesStrategy, DeploymentStyle: in.DeploymentStyle,
		BlueGreenDeploymentConfiguration: in.BlueGreenDeploymentConfiguration, LoadBalancerInfo: in.LoadBalancerInfo,
		Ec2TagSet: in.Ec2TagSet, EcsServices: in.EcsServices, OnPremisesTagSet: in.OnPremisesTagSet,
		TerminationHookEnabled: in.TerminationHookEnabled,
	}
	if sp.ServiceRoleArn == "" {
		return nil, awsproto.Errorf(cdapi.RoleRequiredException, "serviceRoleArn is required")
	}
	if sp.DeploymentConfigName == "" {
		sp.DeploymentConfigName = defaultDeploymentConfig
	}
	if err := checkSpec(sp); err != nil {
		return nil, err
	}
	if err := checkResourceTags(in.Tags); err != nil {
		return nil, err
	}
	if len(in.Tags) > s.limits().TagsPerResource {
		return nil, awsproto.Errorf(cdapi.InvalidTagsToAddException, "%d tags given; a resource can have at most %d", len(in.Tags), s.limits().TagsPerResource)
	}
	info := &cdapi.DeploymentGroupInfo{
		OutdatedInstancesStrategy: cdapi.OutdatedInstancesStrategyUpdate,
		AlarmConfiguration:        &cdapi.AlarmConfiguration{Enabled: aws.Bool(false), IgnorePollAlarmFailure: aws.Bool(false)},
		TerminationHookEnabled:    aws.Bool(false),
	}
	applySpec(info, sp)
	now := s.now()
	g := &store.DeploymentGroup{Application: in.ApplicationName, Name: in.DeploymentGroupName, ID: uuid.NewString(), Created: now, Updated: now}
	if err := encodeGroup(g, info); err != nil {
		return nil, err
	}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		if _, err := getApplication(ctx, q, g.Application); err != nil {
			return err
		}
		if err := resolveConfig(ctx, q, g.ConfigName); err != nil {
			return err
		}
		n, err := q.CountDeploymentGroups(ctx, g.Application)
		if err != nil {
			return err
		}
		if limit := s.limits().DeploymentGroups; n >= limit {
			return awsproto.Errorf(cdapi.DeploymentGroupLimitExceededException, "application %q already has %d deployment groups, the most it may have", g.Application, n)
		}
		err = q.CreateDeploymentGroup(ctx, g)
		if err := storeErr(err, nil, awsproto.Errorf(cdapi.DeploymentGroupAlreadyExistsException,
			"application %q already has a deployment group named %q", g.Application, g.Name)); err != nil {
			return err
		}
		arn := s.DeploymentGroupARN(g.Application, g.Name)
		if err := q.DeleteTags(ctx, arn); err != nil {
			return err
		}
		return q.TagResource(ctx, arn, storeTags(in.Tags))
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "deployment group created", "application", g.Application, "deployment_group", g.Name, "id", g.ID)
	return &cdapi.CreateDeploymentGroupOutput{DeploymentGroupId: g.ID}, nil
}

// getGroup reads a group of an existing application and decodes it.
func getGroup(ctx context.Context, q store.Queries, application, name string) (*store.DeploymentGroup, *cdapi.DeploymentGroupInfo, error) {
	if _, err := getApplication(ctx, q, application); err != nil {
		return nil, nil, err
	}
	g, err := q.GetDeploymentGroup(ctx, application, name)
	if err != nil {
		return nil, nil, storeErr(err, groupNotFound(application, name), nil)
	}
	info, err := decodeGroup(g)
	return g, info, err
}

// GetDeploymentGroup returns a deployment group.
func (s *Service) GetDeploymentGroup(ctx context.Context, in *cdapi.GetDeploymentGroupInput) (*cdapi.GetDeploymentGroupOutput, error) {
	_, info, err := getGroup(ctx, s.Store, in.ApplicationName, in.DeploymentGroupName)
	if err != nil {
		return nil, err
	}
	return &cdapi.GetDeploymentGroupOutput{DeploymentGroupInfo: info}, nil
}

// UpdateDeploymentGroup changes a deployment group's settings and may
// rename it: members left out keep their values, and a list given empty
// clears the setting. Giving tag filters replaces a tag set and the other
// way round, since a group has one of the two.
func (s *Service) UpdateDeploymentGroup(ctx context.Context, in *cdapi.UpdateDeploymentGroupInput) (*cdapi.UpdateDeploymentGroupOutput, error) {
	sp := &groupSpec{
		DeploymentConfigName: in.DeploymentConfigName, Ec2TagFilters: in.Ec2TagFilters,
		OnPremisesInstanceTagFilters: in.OnPremisesInstanceTagFilters, AutoScalingGroups: in.AutoScalingGroups,
		ServiceRoleArn: in.ServiceRoleArn, TriggerConfigurations: in.TriggerConfigurations,
		AlarmConfiguration: in.AlarmConfiguration, AutoRollbackConfiguration: in.AutoRollbackConfiguration,
		OutdatedInstancesStrategy: in.OutdatedInstancesStrategy, DeploymentStyle: in.DeploymentStyle,
		BlueGreenDeploymentConfiguration: in.BlueGreenDeploymentConfiguration, LoadBalancerInfo: in.LoadBalancerInfo,
		Ec2TagSet: in.Ec2TagSet, EcsServices: in.EcsServices, OnPremisesTagSet: in.OnPremisesTagSet,
		TerminationHookEnabled: in.TerminationHookEnabled,
	}
	if err := checkSpec(sp); err != nil {
		return nil, err
	}
	app, oldName := in.ApplicationName, in.CurrentDeploymentGroupName
	newName := in.NewDeploymentGroupName
	if newName == "" {
		newName = oldName
	}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		g, info, err := getGroup(ctx, q, app, oldName)
		if err != nil {
			return err
		}
		if sp.DeploymentConfigName != "" {
			if err := resolveConfig(ctx, q, sp.DeploymentConfigName); err != nil {
				return err
			}
		}
		applySpec(info, sp)
		g.Name, g.Updated = newName, s.now()
		if err := encodeGroup(g, info); err != nil {
			return err
		}
		err = q.UpdateDeploymentGroup(ctx, oldName, g)
		if err := storeErr(err, groupNotFound(app, oldName), awsproto.Errorf(cdapi.DeploymentGroupAlreadyExistsException,
			"application %q already has a deployment group named %q", app, newName)); err != nil {
			return err
		}
		if newName != oldName {
			return moveTags(ctx, q, s.DeploymentGroupARN(app, oldName), s.DeploymentGroupARN(app, newName))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "deployment group updated", "application", app, "deployment_group", oldName, "new_name", newName)
	return &cdapi.UpdateDeploymentGroupOutput{HooksNotCleanedUp: []cdapi.AutoScalingGroup{}}, nil
}

// DeleteDeploymentGroup deletes a deployment group and its tags. Deleting
// one that does not exist succeeds: the model has no not-found error for
// this operation. Slipway installs no Auto Scaling hooks, so none are left
// behind.
func (s *Service) DeleteDeploymentGroup(ctx context.Context, in *cdapi.DeleteDeploymentGroupInput) (*cdapi.DeleteDeploymentGroupOutput, error) {
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.DeleteDeploymentGroup(ctx, in.ApplicationName, in.DeploymentGroupName); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return q.DeleteTags(ctx, s.DeploymentGroupARN(in.ApplicationName, in.DeploymentGroupName))
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "deployment group deleted", "application", in.ApplicationName, "deployment_group", in.DeploymentGroupName)
	return &cdapi.DeleteDeploymentGroupOutput{HooksNotCleanedUp: []cdapi.AutoScalingGroup{}}, nil
}

// ListDeploymentGroups returns an application's group names in byte
// order, paged.
func (s *Service) ListDeploymentGroups(ctx context.Context, in *cdapi.ListDeploymentGroupsInput) (*cdapi.ListDeploymentGroupsOutput, error) {
	after, err := decodeToken("deploymentgroups/"+in.ApplicationName, in.NextToken)
	if err != nil {
		return nil, err
	}
	if _, err := getApplication(ctx, s.Store, in.ApplicationName); err != nil {
		return nil, err
	}
	size := s.limits().PageSize
	rows, err := s.Store.ListDeploymentGroups(ctx, in.ApplicationName, store.Page{After: after, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	out := &cdapi.ListDeploymentGroupsOutput{ApplicationName: in.ApplicationName, DeploymentGroups: []string{}}
	for i, g := range rows {
		if i == size {
			out.NextToken = encodeToken("deploymentgroups/"+in.ApplicationName, rows[size-1].Name)
			break
		}
		out.DeploymentGroups = append(out.DeploymentGroups, g.Name)
	}
	return out, nil
}

// BatchGetDeploymentGroups returns the named groups of an application in
// the order asked; names that do not exist are reported in errorMessage.
func (s *Service) BatchGetDeploymentGroups(ctx context.Context, in *cdapi.BatchGetDeploymentGroupsInput) (*cdapi.BatchGetDeploymentGroupsOutput, error) {
	if len(in.DeploymentGroupNames) > maxBatchGroups {
		return nil, awsproto.Errorf(cdapi.BatchLimitExceededException, "%d deployment group names given; at most %d are allowed", len(in.DeploymentGroupNames), maxBatchGroups)
	}
	if _, err := getApplication(ctx, s.Store, in.ApplicationName); err != nil {
		return nil, err
	}
	out := &cdapi.BatchGetDeploymentGroupsOutput{DeploymentGroupsInfo: []cdapi.DeploymentGroupInfo{}}
	var missing []string
	for _, n := range dedupe(in.DeploymentGroupNames) {
		if n == "" {
			return nil, awsproto.Errorf(cdapi.DeploymentGroupNameRequiredException, "a deployment group name in deploymentGroupNames is empty")
		}
		g, err := s.Store.GetDeploymentGroup(ctx, in.ApplicationName, n)
		if errors.Is(err, store.ErrNotFound) {
			missing = append(missing, n)
			continue
		}
		if err != nil {
			return nil, err
		}
		info, err := decodeGroup(g)
		if err != nil {
			return nil, err
		}
		out.DeploymentGroupsInfo = append(out.DeploymentGroupsInfo, *info)
	}
	if len(missing) > 0 {
		out.ErrorMessage = fmt.Sprintf("application %q has no deployment groups named: %s", in.ApplicationName, strings.Join(missing, ", "))
	}
	return out, nil
}
