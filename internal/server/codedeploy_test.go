package server_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/smithy-go"

	"github.com/slipway-cd/slipway/internal/auth"
)

// The CodeDeploy control plane end to end: a real server over HTTP and the
// AWS SDK's CodeDeploy client signed with the data directory's admin key.

const deployRole = "arn:aws:iam::123456789012:role/CodeDeployServiceRole"

// deployClient starts a server and returns a CodeDeploy client for it and
// the server's account ID.
func deployClient(t *testing.T) (*codedeploy.Client, string) {
	t.Helper()
	b := start(t, "", nil)
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(b.dir, "credentials"), "default")
	if err != nil {
		t.Fatalf("read credentials: %v", err)
	}
	c := codedeploy.New(codedeploy.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(b.url),
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		RetryMaxAttempts: 1,
	})
	return c, b.srv.AccountID()
}

// wantDeployError checks that err is the SDK's typed exception for code
// (types.<code>, not a generic API error) and that its message contains
// contains.
func wantDeployError(t *testing.T, err error, code, contains string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if typ := fmt.Sprintf("%T", ae); typ != "*types."+code {
		t.Errorf("error %s decoded as %s, want the SDK's typed *types.%s", code, typ, code)
	}
	if !strings.Contains(ae.ErrorMessage(), contains) {
		t.Errorf("%s message %q does not contain %q", code, ae.ErrorMessage(), contains)
	}
}

func mustDo[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func TestCodeDeployApplications(t *testing.T) {
	t.Parallel()
	c, account := deployClient(t)
	ctx := context.Background()

	created := mustDo[*codedeploy.CreateApplicationOutput](t, "CreateApplication")(c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{
		ApplicationName: aws.String("WordPress_App"),
		Tags:            []cdtypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	}))
	if aws.ToString(created.ApplicationId) == "" {
		t.Fatal("CreateApplication returned no applicationId")
	}
	_, err := c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("Other"), ComputePlatform: cdtypes.ComputePlatformServer})
	if err != nil {
		t.Fatalf("CreateApplication with computePlatform Server: %v", err)
	}

	got := mustDo[*codedeploy.GetApplicationOutput](t, "GetApplication")(c.GetApplication(ctx, &codedeploy.GetApplicationInput{ApplicationName: aws.String("WordPress_App")}))
	app := got.Application
	if aws.ToString(app.ApplicationName) != "WordPress_App" || aws.ToString(app.ApplicationId) != aws.ToString(created.ApplicationId) ||
		app.ComputePlatform != cdtypes.ComputePlatformServer || app.CreateTime == nil || app.LinkedToGitHub {
		t.Errorf("GetApplication = %+v", app)
	}

	list := mustDo[*codedeploy.ListApplicationsOutput](t, "ListApplications")(c.ListApplications(ctx, &codedeploy.ListApplicationsInput{}))
	if !slices.Equal(list.Applications, []string{"Other", "WordPress_App"}) || list.NextToken != nil {
		t.Errorf("ListApplications = %q, next %v", list.Applications, list.NextToken)
	}
	var paged []string
	for p := codedeploy.NewListApplicationsPaginator(c, &codedeploy.ListApplicationsInput{}); p.HasMorePages(); {
		paged = append(paged, mustDo[*codedeploy.ListApplicationsOutput](t, "paginator")(p.NextPage(ctx)).Applications...)
	}
	if len(paged) != 2 {
		t.Errorf("paginator = %q", paged)
	}

	// Rename: ID, tags and creation time stay.
	_, err = c.UpdateApplication(ctx, &codedeploy.UpdateApplicationInput{ApplicationName: aws.String("WordPress_App"), NewApplicationName: aws.String("Blog")})
	if err != nil {
		t.Fatalf("UpdateApplication: %v", err)
	}
	batch := mustDo[*codedeploy.BatchGetApplicationsOutput](t, "BatchGetApplications")(c.BatchGetApplications(ctx, &codedeploy.BatchGetApplicationsInput{ApplicationNames: []string{"Blog", "Other"}}))
	if len(batch.ApplicationsInfo) != 2 || aws.ToString(batch.ApplicationsInfo[0].ApplicationId) != aws.ToString(created.ApplicationId) {
		t.Errorf("BatchGetApplications = %+v", batch.ApplicationsInfo)
	}
	tags := mustDo[*codedeploy.ListTagsForResourceOutput](t, "ListTagsForResource")(c.ListTagsForResource(ctx, &codedeploy.ListTagsForResourceInput{
		ResourceArn: aws.String("arn:aws:codedeploy:us-east-1:" + account + ":application:Blog")}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Errorf("tags after rename = %+v", tags.Tags)
	}

	// Typed errors.
	_, err = c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("Blog")})
	wantDeployError(t, err, "ApplicationAlreadyExistsException", "Blog")
	_, err = c.GetApplication(ctx, &codedeploy.GetApplicationInput{ApplicationName: aws.String("WordPress_App")})
	wantDeployError(t, err, "ApplicationDoesNotExistException", "WordPress_App")
	_, err = c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("Fn"), ComputePlatform: cdtypes.ComputePlatformLambda})
	wantDeployError(t, err, "InvalidComputePlatformException", "Slipway deploys to servers")
	_, err = c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("Svc"), ComputePlatform: cdtypes.ComputePlatformEcs})
	wantDeployError(t, err, "InvalidComputePlatformException", "ECS")
	_, err = c.UpdateApplication(ctx, &codedeploy.UpdateApplicationInput{ApplicationName: aws.String("Blog"), NewApplicationName: aws.String("Other")})
	wantDeployError(t, err, "ApplicationAlreadyExistsException", "Other")
	_, err = c.UpdateApplication(ctx, &codedeploy.UpdateApplicationInput{ApplicationName: aws.String("Nope"), NewApplicationName: aws.String("Nope2")})
	wantDeployError(t, err, "ApplicationDoesNotExistException", "Nope")
	_, err = c.UpdateApplication(ctx, &codedeploy.UpdateApplicationInput{ApplicationName: aws.String("Blog")})
	wantDeployError(t, err, "ApplicationNameRequiredException", "newApplicationName")
	_, err = c.BatchGetApplications(ctx, &codedeploy.BatchGetApplicationsInput{ApplicationNames: []string{"Blog", "Missing"}})
	wantDeployError(t, err, "ApplicationDoesNotExistException", "Missing")
	_, err = c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("T"), Tags: []cdtypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}})
	wantDeployError(t, err, "InvalidTagsToAddException", "aws:")
	_, err = c.ListApplications(ctx, &codedeploy.ListApplicationsInput{NextToken: aws.String("bogus")})
	wantDeployError(t, err, "InvalidNextTokenException", "nextToken")

	// Delete; deleting again succeeds (no not-found error is modeled).
	for range 2 {
		if _, err := c.DeleteApplication(ctx, &codedeploy.DeleteApplicationInput{ApplicationName: aws.String("Blog")}); err != nil {
			t.Fatalf("DeleteApplication: %v", err)
		}
	}
	_, err = c.GetApplication(ctx, &codedeploy.GetApplicationInput{ApplicationName: aws.String("Blog")})
	wantDeployError(t, err, "ApplicationDoesNotExistException", "Blog")
}

func TestCodeDeployDeploymentConfigs(t *testing.T) {
	t.Parallel()
	c, _ := deployClient(t)
	ctx := context.Background()

	list := mustDo[*codedeploy.ListDeploymentConfigsOutput](t, "ListDeploymentConfigs")(c.ListDeploymentConfigs(ctx, &codedeploy.ListDeploymentConfigsInput{}))
	want := []string{"CodeDeployDefault.AllAtOnce", "CodeDeployDefault.HalfAtATime", "CodeDeployDefault.OneAtATime"}
	if !slices.Equal(list.DeploymentConfigsList, want) {
		t.Errorf("predefined configs = %q, want %q", list.DeploymentConfigsList, want)
	}
	for _, tc := range []struct {
		name string
		typ  cdtypes.MinimumHealthyHostsType
		v    int32
	}{
		{"CodeDeployDefault.OneAtATime", "MOST_CONCURRENCY", 1},
		{"CodeDeployDefault.HalfAtATime", cdtypes.MinimumHealthyHostsTypeFleetPercent, 50},
		{"CodeDeployDefault.AllAtOnce", cdtypes.MinimumHealthyHostsTypeFleetPercent, 0},
	} {
		got := mustDo[*codedeploy.GetDeploymentConfigOutput](t, "GetDeploymentConfig "+tc.name)(c.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String(tc.name)}))
		info := got.DeploymentConfigInfo
		if aws.ToString(info.DeploymentConfigName) != tc.name || info.MinimumHealthyHosts == nil || info.MinimumHealthyHosts.Type != tc.typ ||
			info.MinimumHealthyHosts.Value != tc.v || info.ComputePlatform != cdtypes.ComputePlatformServer || aws.ToString(info.DeploymentConfigId) == "" {
			t.Errorf("%s = %+v %+v", tc.name, info, info.MinimumHealthyHosts)
		}
		_, err := c.DeleteDeploymentConfig(ctx, &codedeploy.DeleteDeploymentConfigInput{DeploymentConfigName: aws.String(tc.name)})
		wantDeployError(t, err, "InvalidOperationException", "predefined")
	}

	// Custom configurations; a zero value (which the SDK leaves out) works.
	for _, tc := range []struct {
		name string
		typ  cdtypes.MinimumHealthyHostsType
		v    int32
	}{
		{"ThreeQuartersHealthy", cdtypes.MinimumHealthyHostsTypeFleetPercent, 75},
		{"NoneHealthy", cdtypes.MinimumHealthyHostsTypeHostCount, 0},
		{"NinetyNine", cdtypes.MinimumHealthyHostsTypeFleetPercent, 99},
	} {
		out := mustDo[*codedeploy.CreateDeploymentConfigOutput](t, "CreateDeploymentConfig "+tc.name)(c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{
			DeploymentConfigName: aws.String(tc.name), MinimumHealthyHosts: &cdtypes.MinimumHealthyHosts{Type: tc.typ, Value: tc.v}}))
		got := mustDo[*codedeploy.GetDeploymentConfigOutput](t, "GetDeploymentConfig "+tc.name)(c.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String(tc.name)}))
		info := got.DeploymentConfigInfo
		if aws.ToString(info.DeploymentConfigId) != aws.ToString(out.DeploymentConfigId) || info.MinimumHealthyHosts.Type != tc.typ ||
			info.MinimumHealthyHosts.Value != tc.v || info.CreateTime == nil {
			t.Errorf("%s = %+v %+v", tc.name, info, info.MinimumHealthyHosts)
		}
	}
	list = mustDo[*codedeploy.ListDeploymentConfigsOutput](t, "ListDeploymentConfigs")(c.ListDeploymentConfigs(ctx, &codedeploy.ListDeploymentConfigsInput{}))
	if len(list.DeploymentConfigsList) != 6 {
		t.Errorf("configs = %q", list.DeploymentConfigsList)
	}

	mh := func(typ cdtypes.MinimumHealthyHostsType, v int32) *cdtypes.MinimumHealthyHosts {
		return &cdtypes.MinimumHealthyHosts{Type: typ, Value: v}
	}
	_, err := c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String("ThreeQuartersHealthy"), MinimumHealthyHosts: mh("HOST_COUNT", 1)})
	wantDeployError(t, err, "DeploymentConfigAlreadyExistsException", "ThreeQuartersHealthy")
	_, err = c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String("CodeDeployDefault.OneAtATime"), MinimumHealthyHosts: mh("HOST_COUNT", 1)})
	wantDeployError(t, err, "DeploymentConfigAlreadyExistsException", "predefined")
	_, err = c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String("CodeDeployDefault.Mine"), MinimumHealthyHosts: mh("HOST_COUNT", 1)})
	wantDeployError(t, err, "InvalidDeploymentConfigNameException", "reserved")
	_, err = c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String("Full"), MinimumHealthyHosts: mh("FLEET_PERCENT", 100)})
	wantDeployError(t, err, "InvalidMinimumHealthyHostValueException", "0 to 99")
	_, err = c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String("Negative"), MinimumHealthyHosts: mh("HOST_COUNT", -1)})
	wantDeployError(t, err, "InvalidMinimumHealthyHostValueException", "negative")
	_, err = c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String("NoMinimum")})
	wantDeployError(t, err, "InvalidMinimumHealthyHostValueException", "required")
	_, err = c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String("Canary"), ComputePlatform: cdtypes.ComputePlatformLambda,
		TrafficRoutingConfig: &cdtypes.TrafficRoutingConfig{Type: cdtypes.TrafficRoutingTypeAllAtOnce}})
	wantDeployError(t, err, "InvalidComputePlatformException", "Lambda")
	_, err = c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String("Routed"), MinimumHealthyHosts: mh("HOST_COUNT", 1),
		TrafficRoutingConfig: &cdtypes.TrafficRoutingConfig{Type: cdtypes.TrafficRoutingTypeAllAtOnce}})
	wantDeployError(t, err, "InvalidTrafficRoutingConfigurationException", "Lambda and ECS")
	_, err = c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String("Zonal"), MinimumHealthyHosts: mh("HOST_COUNT", 1),
		ZonalConfig: &cdtypes.ZonalConfig{MonitorDurationInSeconds: aws.Int64(60)}})
	wantDeployError(t, err, "InvalidZonalDeploymentConfigurationException", "Availability Zone")
	_, err = c.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String("Nope")})
	wantDeployError(t, err, "DeploymentConfigDoesNotExistException", "Nope")
	_, err = c.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String("CodeDeployDefault.LambdaAllAtOnce")})
	wantDeployError(t, err, "DeploymentConfigDoesNotExistException", "deploys to servers")

	// In use by a group: not deletable until the group changes configuration.
	mustDo[*codedeploy.CreateApplicationOutput](t, "CreateApplication")(c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("App")}))
	mustDo[*codedeploy.CreateDeploymentGroupOutput](t, "CreateDeploymentGroup")(c.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName: aws.String("App"), DeploymentGroupName: aws.String("G"), ServiceRoleArn: aws.String(deployRole),
		DeploymentConfigName: aws.String("ThreeQuartersHealthy")}))
	_, err = c.DeleteDeploymentConfig(ctx, &codedeploy.DeleteDeploymentConfigInput{DeploymentConfigName: aws.String("ThreeQuartersHealthy")})
	wantDeployError(t, err, "DeploymentConfigInUseException", "1 deployment group")
	mustDo[*codedeploy.UpdateDeploymentGroupOutput](t, "UpdateDeploymentGroup")(c.UpdateDeploymentGroup(ctx, &codedeploy.UpdateDeploymentGroupInput{
		ApplicationName: aws.String("App"), CurrentDeploymentGroupName: aws.String("G"), DeploymentConfigName: aws.String("CodeDeployDefault.AllAtOnce")}))
	if _, err := c.DeleteDeploymentConfig(ctx, &codedeploy.DeleteDeploymentConfigInput{DeploymentConfigName: aws.String("ThreeQuartersHealthy")}); err != nil {
		t.Fatalf("DeleteDeploymentConfig no longer in use: %v", err)
	}
	_, err = c.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String("ThreeQuartersHealthy")})
	wantDeployError(t, err, "DeploymentConfigDoesNotExistException", "ThreeQuartersHealthy")
}

func kvFilter(key, value string) cdtypes.TagFilter {
	return cdtypes.TagFilter{Key: aws.String(key), Value: aws.String(value), Type: cdtypes.TagFilterTypeKeyAndValue}
}

func TestCodeDeployDeploymentGroups(t *testing.T) {
	t.Parallel()
	c, account := deployClient(t)
	ctx := context.Background()
	mustDo[*codedeploy.CreateApplicationOutput](t, "CreateApplication")(c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("App")}))

	// Tag filters of each type; the configuration defaults to OneAtATime.
	created := mustDo[*codedeploy.CreateDeploymentGroupOutput](t, "CreateDeploymentGroup filters")(c.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName: aws.String("App"), DeploymentGroupName: aws.String("Filters"), ServiceRoleArn: aws.String(deployRole),
		OnPremisesInstanceTagFilters: []cdtypes.TagFilter{
			kvFilter("Name", "CodeDeployDemo-OnPrem"),
			{Key: aws.String("Canary"), Type: cdtypes.TagFilterTypeKeyOnly},
			{Value: aws.String("GRP-*a"), Type: cdtypes.TagFilterTypeValueOnly},
		},
		AutoRollbackConfiguration: &cdtypes.AutoRollbackConfiguration{Enabled: true, Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure}},
		TriggerConfigurations: []cdtypes.TriggerConfig{{TriggerName: aws.String("t"), TriggerTargetArn: aws.String("arn:aws:sns:us-east-1:123456789012:NewTestTopic"),
			TriggerEvents: []cdtypes.TriggerEventType{cdtypes.TriggerEventTypeDeploymentFailure, cdtypes.TriggerEventTypeInstanceFailure}}},
		AlarmConfiguration:        &cdtypes.AlarmConfiguration{Enabled: true, Alarms: []cdtypes.Alarm{{Name: aws.String("HighErrors")}}},
		OutdatedInstancesStrategy: cdtypes.OutdatedInstancesStrategyIgnore,
		DeploymentStyle:           &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeInPlace, DeploymentOption: cdtypes.DeploymentOptionWithoutTrafficControl},
		Tags:                      []cdtypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
	}))
	if aws.ToString(created.DeploymentGroupId) == "" {
		t.Fatal("no deploymentGroupId")
	}
	got := mustDo[*codedeploy.GetDeploymentGroupOutput](t, "GetDeploymentGroup")(c.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{
		ApplicationName: aws.String("App"), DeploymentGroupName: aws.String("Filters")})).DeploymentGroupInfo
	if aws.ToString(got.DeploymentGroupId) != aws.ToString(created.DeploymentGroupId) || aws.ToString(got.DeploymentConfigName) != "CodeDeployDefault.OneAtATime" ||
		aws.ToString(got.ServiceRoleArn) != deployRole || len(got.OnPremisesInstanceTagFilters) != 3 || got.OnPremisesInstanceTagFilters[1].Type != cdtypes.TagFilterTypeKeyOnly ||
		got.ComputePlatform != cdtypes.ComputePlatformServer || got.OutdatedInstancesStrategy != cdtypes.OutdatedInstancesStrategyIgnore ||
		got.DeploymentStyle == nil || got.DeploymentStyle.DeploymentType != cdtypes.DeploymentTypeInPlace ||
		!got.AutoRollbackConfiguration.Enabled || len(got.TriggerConfigurations) != 1 || len(got.TriggerConfigurations[0].TriggerEvents) != 2 ||
		!got.AlarmConfiguration.Enabled || aws.ToString(got.AlarmConfiguration.Alarms[0].Name) != "HighErrors" {
		t.Errorf("GetDeploymentGroup = %+v", got)
	}

	// A tag set: three groups, ANDed.
	mustDo[*codedeploy.CreateDeploymentGroupOutput](t, "CreateDeploymentGroup tag set")(c.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName: aws.String("App"), DeploymentGroupName: aws.String("Set"), ServiceRoleArn: aws.String(deployRole),
		DeploymentConfigName: aws.String("CodeDeployDefault.HalfAtATime"),
		OnPremisesTagSet: &cdtypes.OnPremisesTagSet{OnPremisesTagSetList: [][]cdtypes.TagFilter{
			{kvFilter("Environment", "Beta"), kvFilter("Environment", "Staging")},
			{kvFilter("Region", "North"), kvFilter("Region", "South"), kvFilter("Region", "East")},
			{kvFilter("Type", "t2.medium"), kvFilter("Type", "t2.large")},
		}},
	}))
	set := mustDo[*codedeploy.GetDeploymentGroupOutput](t, "GetDeploymentGroup set")(c.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{
		ApplicationName: aws.String("App"), DeploymentGroupName: aws.String("Set")})).DeploymentGroupInfo
	if set.OnPremisesTagSet == nil || len(set.OnPremisesTagSet.OnPremisesTagSetList) != 3 || len(set.OnPremisesTagSet.OnPremisesTagSetList[1]) != 3 ||
		len(set.OnPremisesInstanceTagFilters) != 0 {
		t.Errorf("tag set group = %+v", set)
	}

	groups := mustDo[*codedeploy.ListDeploymentGroupsOutput](t, "ListDeploymentGroups")(c.ListDeploymentGroups(ctx, &codedeploy.ListDeploymentGroupsInput{ApplicationName: aws.String("App")}))
	if aws.ToString(groups.ApplicationName) != "App" || !slices.Equal(groups.DeploymentGroups, []string{"Filters", "Set"}) {
		t.Errorf("ListDeploymentGroups = %+v", groups)
	}
	batch := mustDo[*codedeploy.BatchGetDeploymentGroupsOutput](t, "BatchGetDeploymentGroups")(c.BatchGetDeploymentGroups(ctx, &codedeploy.BatchGetDeploymentGroupsInput{
		ApplicationName: aws.String("App"), DeploymentGroupNames: []string{"Set", "Missing", "Filters"}}))
	if len(batch.DeploymentGroupsInfo) != 2 || aws.ToString(batch.DeploymentGroupsInfo[0].DeploymentGroupName) != "Set" ||
		!strings.Contains(aws.ToString(batch.ErrorMessage), "Missing") {
		t.Errorf("BatchGetDeploymentGroups = %d groups, errorMessage %q", len(batch.DeploymentGroupsInfo), aws.ToString(batch.ErrorMessage))
	}

	// Update: rename, switch the set to filters; the ID and tags stay.
	mustDo[*codedeploy.UpdateDeploymentGroupOutput](t, "UpdateDeploymentGroup")(c.UpdateDeploymentGroup(ctx, &codedeploy.UpdateDeploymentGroupInput{
		ApplicationName: aws.String("App"), CurrentDeploymentGroupName: aws.String("Filters"), NewDeploymentGroupName: aws.String("Fleet"),
		DeploymentConfigName: aws.String("CodeDeployDefault.AllAtOnce"), TriggerConfigurations: []cdtypes.TriggerConfig{},
	}))
	upd := mustDo[*codedeploy.GetDeploymentGroupOutput](t, "GetDeploymentGroup renamed")(c.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{
		ApplicationName: aws.String("App"), DeploymentGroupName: aws.String("Fleet")})).DeploymentGroupInfo
	if aws.ToString(upd.DeploymentGroupId) != aws.ToString(created.DeploymentGroupId) || aws.ToString(upd.DeploymentConfigName) != "CodeDeployDefault.AllAtOnce" ||
		len(upd.OnPremisesInstanceTagFilters) != 3 || len(upd.TriggerConfigurations) != 0 {
		t.Errorf("updated group = %+v", upd)
	}
	groupARN := "arn:aws:codedeploy:us-east-1:" + account + ":deploymentgroup:App/Fleet"
	tags := mustDo[*codedeploy.ListTagsForResourceOutput](t, "ListTagsForResource group")(c.ListTagsForResource(ctx, &codedeploy.ListTagsForResourceInput{ResourceArn: aws.String(groupARN)}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "prod" {
		t.Errorf("group tags = %+v", tags.Tags)
	}
	mustDo[*codedeploy.TagResourceOutput](t, "TagResource")(c.TagResource(ctx, &codedeploy.TagResourceInput{ResourceArn: aws.String(groupARN),
		Tags: []cdtypes.Tag{{Key: aws.String("owner"), Value: aws.String("ops")}, {Key: aws.String("env"), Value: aws.String("staging")}}}))
	mustDo[*codedeploy.UntagResourceOutput](t, "UntagResource")(c.UntagResource(ctx, &codedeploy.UntagResourceInput{ResourceArn: aws.String(groupARN), TagKeys: []string{"owner"}}))
	tags = mustDo[*codedeploy.ListTagsForResourceOutput](t, "ListTagsForResource group")(c.ListTagsForResource(ctx, &codedeploy.ListTagsForResourceInput{ResourceArn: aws.String(groupARN)}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" || aws.ToString(tags.Tags[0].Value) != "staging" {
		t.Errorf("group tags after tag/untag = %+v", tags.Tags)
	}

	// Typed errors.
	create := func(name string, mod func(*codedeploy.CreateDeploymentGroupInput)) error {
		in := &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String("App"), DeploymentGroupName: aws.String(name), ServiceRoleArn: aws.String(deployRole)}
		if mod != nil {
			mod(in)
		}
		_, err := c.CreateDeploymentGroup(ctx, in)
		return err
	}
	wantDeployError(t, create("Fleet", nil), "DeploymentGroupAlreadyExistsException", "Fleet")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) { in.ApplicationName = aws.String("NoApp") }),
		"ApplicationDoesNotExistException", "NoApp")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.OnPremisesInstanceTagFilters = []cdtypes.TagFilter{{Key: aws.String("Name"), Type: cdtypes.TagFilterTypeKeyAndValue}}
	}), "InvalidTagException", "KEY_AND_VALUE")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.OnPremisesInstanceTagFilters = []cdtypes.TagFilter{kvFilter("a", "b")}
		in.OnPremisesTagSet = &cdtypes.OnPremisesTagSet{OnPremisesTagSetList: [][]cdtypes.TagFilter{{kvFilter("c", "d")}}}
	}), "InvalidOnPremisesTagCombinationException", "cannot be used together")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.OnPremisesTagSet = &cdtypes.OnPremisesTagSet{OnPremisesTagSetList: [][]cdtypes.TagFilter{
			{kvFilter("a", "1")}, {kvFilter("b", "2")}, {kvFilter("c", "3")}, {kvFilter("d", "4")}}}
	}), "TagSetListLimitExceededException", "at most 3")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		for i := range 11 {
			in.OnPremisesInstanceTagFilters = append(in.OnPremisesInstanceTagFilters, kvFilter("k", fmt.Sprint(i)))
		}
	}), "InvalidTagException", "at most 10")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.DeploymentStyle = &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeBlueGreen, DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl}
	}), "InvalidDeploymentStyleException", "BLUE_GREEN")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.DeploymentStyle = &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeInPlace, DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl}
	}), "InvalidDeploymentStyleException", "WITHOUT_TRAFFIC_CONTROL")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.DeploymentConfigName = aws.String("CodeDeployDefault.LambdaAllAtOnce")
	}), "InvalidDeploymentConfigNameException", "not a configuration for servers")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) { in.DeploymentConfigName = aws.String("Custom") }),
		"DeploymentConfigDoesNotExistException", "Custom")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.Ec2TagFilters = []cdtypes.EC2TagFilter{{Key: aws.String("Name"), Value: aws.String("x"), Type: cdtypes.EC2TagFilterTypeKeyAndValue}}
	}), "InvalidEC2TagException", "onPremisesInstanceTagFilters")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) { in.AutoScalingGroups = []string{"asg"} }),
		"InvalidAutoScalingGroupException", "Auto Scaling")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) { in.ServiceRoleArn = aws.String("CodeDeployRole") }),
		"InvalidRoleException", "IAM role ARN")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.AutoRollbackConfiguration = &cdtypes.AutoRollbackConfiguration{Enabled: true}
	}), "InvalidAutoRollbackConfigException", "no events")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.TriggerConfigurations = []cdtypes.TriggerConfig{{TriggerName: aws.String("t"), TriggerTargetArn: aws.String("arn:aws:sns:us-east-1:1:x")}}
	}), "InvalidTriggerConfigException", "no events")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.AlarmConfiguration = &cdtypes.AlarmConfiguration{Enabled: true, Alarms: make([]cdtypes.Alarm, 11)}
		for i := range in.AlarmConfiguration.Alarms {
			in.AlarmConfiguration.Alarms[i].Name = aws.String(fmt.Sprint("alarm", i))
		}
	}), "AlarmsLimitExceededException", "at most 10")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.LoadBalancerInfo = &cdtypes.LoadBalancerInfo{ElbInfoList: []cdtypes.ELBInfo{{Name: aws.String("lb")}}}
	}), "InvalidLoadBalancerInfoException", "load balancer")
	wantDeployError(t, create("X", func(in *codedeploy.CreateDeploymentGroupInput) {
		in.BlueGreenDeploymentConfiguration = &cdtypes.BlueGreenDeploymentConfiguration{}
	}), "InvalidBlueGreenDeploymentConfigurationException", "blue/green")

	_, err := c.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("App"), DeploymentGroupName: aws.String("Filters")})
	wantDeployError(t, err, "DeploymentGroupDoesNotExistException", "Filters")
	_, err = c.UpdateDeploymentGroup(ctx, &codedeploy.UpdateDeploymentGroupInput{ApplicationName: aws.String("App"), CurrentDeploymentGroupName: aws.String("Fleet"), NewDeploymentGroupName: aws.String("Set")})
	wantDeployError(t, err, "DeploymentGroupAlreadyExistsException", "Set")
	_, err = c.ListDeploymentGroups(ctx, &codedeploy.ListDeploymentGroupsInput{ApplicationName: aws.String("NoApp")})
	wantDeployError(t, err, "ApplicationDoesNotExistException", "NoApp")
	_, err = c.ListTagsForResource(ctx, &codedeploy.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:codedeploy:us-east-1:" + account + ":deploymentgroup:App/Nope")})
	wantDeployError(t, err, "InvalidArnException", "Nope")
	_, err = c.TagResource(ctx, &codedeploy.TagResourceInput{ResourceArn: aws.String("arn:aws:codedeploy:us-east-1:" + account + ":deploymentgroup:App/Nope"),
		Tags: []cdtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantDeployError(t, err, "DeploymentGroupDoesNotExistException", "Nope")
	_, err = c.UntagResource(ctx, &codedeploy.UntagResourceInput{ResourceArn: aws.String("arn:aws:codedeploy:us-east-1:" + account + ":application:Nope"), TagKeys: []string{"k"}})
	wantDeployError(t, err, "ApplicationDoesNotExistException", "Nope")
	_, err = c.ListTagsForResource(ctx, &codedeploy.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:codedeploy:us-east-1:" + account + ":deploymentconfig:CodeDeployDefault.OneAtATime")})
	wantDeployError(t, err, "ArnNotSupportedException", "cannot be tagged")
	_, err = c.ListTagsForResource(ctx, &codedeploy.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:codepipeline:us-east-1:" + account + ":MyPipeline")})
	wantDeployError(t, err, "ArnNotSupportedException", "not a CodeDeploy ARN")
	_, err = c.ListTagsForResource(ctx, &codedeploy.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:codedeploy:eu-west-1:" + account + ":application:App")})
	wantDeployError(t, err, "InvalidArnException", "eu-west-1")
	_, err = c.ListTagsForResource(ctx, &codedeploy.ListTagsForResourceInput{ResourceArn: aws.String("App")})
	wantDeployError(t, err, "InvalidArnException", "not an ARN")
	_, err = c.TagResource(ctx, &codedeploy.TagResourceInput{ResourceArn: aws.String(groupARN), Tags: []cdtypes.Tag{}})
	wantDeployError(t, err, "TagRequiredException", "no tags")

	// Delete: the group and its tags go; deleting again succeeds.
	for range 2 {
		if _, err := c.DeleteDeploymentGroup(ctx, &codedeploy.DeleteDeploymentGroupInput{ApplicationName: aws.String("App"), DeploymentGroupName: aws.String("Fleet")}); err != nil {
			t.Fatalf("DeleteDeploymentGroup: %v", err)
		}
	}
	groups = mustDo[*codedeploy.ListDeploymentGroupsOutput](t, "ListDeploymentGroups")(c.ListDeploymentGroups(ctx, &codedeploy.ListDeploymentGroupsInput{ApplicationName: aws.String("App")}))
	if !slices.Equal(groups.DeploymentGroups, []string{"Set"}) {
		t.Errorf("groups after delete = %q", groups.DeploymentGroups)
	}
}

func TestCodeDeployOnPremisesInstances(t *testing.T) {
	t.Parallel()
	c, account := deployClient(t)
	ctx := context.Background()
	userARN := "arn:aws:iam::444455556666:user/CodeDeployUser-OnPrem"
	sessionARN := "arn:aws:sts::444455556666:assumed-role/CodeDeployInstanceRole/AssetTag12010299EX"
	ownARN := "arn:aws:codedeploy:us-east-1:" + account + ":instance/rack-3"
	register := func(name, user, session string) error {
		in := &codedeploy.RegisterOnPremisesInstanceInput{InstanceName: aws.String(name)}
		if user != "" {
			in.IamUserArn = aws.String(user)
		}
		if session != "" {
			in.IamSessionArn = aws.String(session)
		}
		_, err := c.RegisterOnPremisesInstance(ctx, in)
		return err
	}
	for _, r := range [][3]string{{"AssetTag12010298EX", userARN, ""}, {"AssetTag12010299EX", "", sessionARN}, {"rack-3", "", ownARN}} {
		if err := register(r[0], r[1], r[2]); err != nil {
			t.Fatalf("RegisterOnPremisesInstance %s: %v", r[0], err)
		}
	}
	addTags := func(names []string, kv ...string) error {
		in := &codedeploy.AddTagsToOnPremisesInstancesInput{InstanceNames: append([]string{}, names...), Tags: []cdtypes.Tag{}}
		for i := 0; i+1 < len(kv); i += 2 {
			in.Tags = append(in.Tags, cdtypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		_, err := c.AddTagsToOnPremisesInstances(ctx, in)
		return err
	}
	if err := addTags([]string{"AssetTag12010298EX", "AssetTag12010299EX"}, "Name", "CodeDeployDemo-OnPrem", "Env", "prod"); err != nil {
		t.Fatalf("AddTagsToOnPremisesInstances: %v", err)
	}
	if err := addTags([]string{"rack-3"}, "Name", "Other"); err != nil {
		t.Fatalf("AddTagsToOnPremisesInstances: %v", err)
	}

	got := mustDo[*codedeploy.GetOnPremisesInstanceOutput](t, "GetOnPremisesInstance")(c.GetOnPremisesInstance(ctx, &codedeploy.GetOnPremisesInstanceInput{InstanceName: aws.String("AssetTag12010298EX")})).InstanceInfo
	if aws.ToString(got.IamUserArn) != userARN || got.IamSessionArn != nil || got.RegisterTime == nil || got.DeregisterTime != nil ||
		aws.ToString(got.InstanceArn) != "arn:aws:codedeploy:us-east-1:"+account+":instance/AssetTag12010298EX" || len(got.Tags) != 2 {
		t.Errorf("GetOnPremisesInstance = %+v", got)
	}
	names := func(in *codedeploy.ListOnPremisesInstancesInput) []string {
		t.Helper()
		return mustDo[*codedeploy.ListOnPremisesInstancesOutput](t, "ListOnPremisesInstances")(c.ListOnPremisesInstances(ctx, in)).InstanceNames
	}
	if got := names(&codedeploy.ListOnPremisesInstancesInput{TagFilters: []cdtypes.TagFilter{kvFilter("Name", "CodeDeployDemo-OnPrem")}}); !slices.Equal(got, []string{"AssetTag12010298EX", "AssetTag12010299EX"}) {
		t.Errorf("ListOnPremisesInstances by tag = %q", got)
	}

	// Remove a tag, deregister one instance.
	if _, err := c.RemoveTagsFromOnPremisesInstances(ctx, &codedeploy.RemoveTagsFromOnPremisesInstancesInput{InstanceNames: []string{"AssetTag12010299EX"},
		Tags: []cdtypes.Tag{{Key: aws.String("Name"), Value: aws.String("CodeDeployDemo-OnPrem")}}}); err != nil {
		t.Fatalf("RemoveTagsFromOnPremisesInstances: %v", err)
	}
	if _, err := c.DeregisterOnPremisesInstance(ctx, &codedeploy.DeregisterOnPremisesInstanceInput{InstanceName: aws.String("AssetTag12010298EX")}); err != nil {
		t.Fatalf("DeregisterOnPremisesInstance: %v", err)
	}
	if got := names(&codedeploy.ListOnPremisesInstancesInput{}); !slices.Equal(got, []string{"AssetTag12010298EX", "AssetTag12010299EX", "rack-3"}) {
		t.Errorf("ListOnPremisesInstances all = %q", got)
	}
	if got := names(&codedeploy.ListOnPremisesInstancesInput{RegistrationStatus: cdtypes.RegistrationStatusRegistered}); !slices.Equal(got, []string{"AssetTag12010299EX", "rack-3"}) {
		t.Errorf("ListOnPremisesInstances registered = %q", got)
	}
	if got := names(&codedeploy.ListOnPremisesInstancesInput{RegistrationStatus: cdtypes.RegistrationStatusDeregistered}); !slices.Equal(got, []string{"AssetTag12010298EX"}) {
		t.Errorf("ListOnPremisesInstances deregistered = %q", got)
	}
	if got := names(&codedeploy.ListOnPremisesInstancesInput{RegistrationStatus: cdtypes.RegistrationStatusRegistered,
		TagFilters: []cdtypes.TagFilter{kvFilter("Name", "CodeDeployDemo-OnPrem")}}); len(got) != 0 {
		t.Errorf("registered with the removed tag = %q", got)
	}
	batch := mustDo[*codedeploy.BatchGetOnPremisesInstancesOutput](t, "BatchGetOnPremisesInstances")(c.BatchGetOnPremisesInstances(ctx, &codedeploy.BatchGetOnPremisesInstancesInput{
		InstanceNames: []string{"rack-3", "nope", "AssetTag12010298EX"}}))
	if len(batch.InstanceInfos) != 2 || aws.ToString(batch.InstanceInfos[0].InstanceName) != "AssetTag12010298EX" || batch.InstanceInfos[0].DeregisterTime == nil ||
		aws.ToString(batch.InstanceInfos[1].IamSessionArn) != ownARN {
		t.Errorf("BatchGetOnPremisesInstances = %+v", batch.InstanceInfos)
	}

	// Typed errors.
	wantDeployError(t, register("rack-3", "arn:aws:iam::444455556666:user/another", ""), "InstanceNameAlreadyRegisteredException", "rack-3")
	wantDeployError(t, register("new", "", ""), "IamArnRequiredException", "iamUserArn")
	wantDeployError(t, register("new", userARN, sessionARN), "MultipleIamArnsProvidedException", "not both")
	wantDeployError(t, register("new", "arn:aws:iam::444455556666:role/NotAUser", ""), "InvalidIamUserArnException", "IAM user ARN")
	wantDeployError(t, register("new", "", "arn:aws:codedeploy:us-east-1:"+account+":instance/someone-else"), "InvalidIamSessionArnException", "instance's ARN")
	wantDeployError(t, register("new", "", sessionARN), "IamSessionArnAlreadyRegisteredException", "AssetTag12010299EX")
	wantDeployError(t, register("00:1B:44:11:3A:B7", userARN, ""), "InvalidInstanceNameException", "MAC address")
	_, err := c.GetOnPremisesInstance(ctx, &codedeploy.GetOnPremisesInstanceInput{InstanceName: aws.String("ghost")})
	wantDeployError(t, err, "InstanceNotRegisteredException", "ghost")
	wantDeployError(t, addTags([]string{"AssetTag12010298EX"}, "k", "v"), "InstanceNotRegisteredException", "deregistered")
	wantDeployError(t, addTags([]string{"rack-3"}, "k", ""), "InvalidTagException", "Value")
	wantDeployError(t, addTags([]string{"rack-3"}), "TagRequiredException", "no tags")
	wantDeployError(t, addTags(nil, "k", "v"), "InstanceNameRequiredException", "no instances")
	wantDeployError(t, addTags([]string{"rack-3"}, "a", "1", "b", "1", "c", "1", "d", "1", "e", "1", "f", "1", "g", "1", "h", "1", "i", "1", "j", "1"),
		"TagLimitExceededException", "at most 10")
	_, err = c.ListOnPremisesInstances(ctx, &codedeploy.ListOnPremisesInstancesInput{TagFilters: []cdtypes.TagFilter{{Key: aws.String("Name"), Type: cdtypes.TagFilterTypeValueOnly}}})
	wantDeployError(t, err, "InvalidTagFilterException", "VALUE_ONLY")
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprint("i", i)
	}
	_, err = c.BatchGetOnPremisesInstances(ctx, &codedeploy.BatchGetOnPremisesInstancesInput{InstanceNames: many})
	wantDeployError(t, err, "BatchLimitExceededException", "at most 100")

	// The user ARN of a deregistered instance is free again, and so is its
	// name: registered again, it starts without tags.
	if err := register("AssetTag12010298EX", userARN, ""); err != nil {
		t.Fatalf("register a deregistered name again: %v", err)
	}
	again := mustDo[*codedeploy.GetOnPremisesInstanceOutput](t, "GetOnPremisesInstance")(c.GetOnPremisesInstance(ctx, &codedeploy.GetOnPremisesInstanceInput{InstanceName: aws.String("AssetTag12010298EX")})).InstanceInfo
	if again.DeregisterTime != nil || len(again.Tags) != 0 {
		t.Errorf("re-registered instance = %+v", again)
	}
	wantDeployError(t, register("another", userARN, ""), "IamUserArnAlreadyRegisteredException", "AssetTag12010298EX")
	// Deregistering twice, or an unknown instance, succeeds.
	for _, n := range []string{"rack-3", "rack-3", "ghost"} {
		if _, err := c.DeregisterOnPremisesInstance(ctx, &codedeploy.DeregisterOnPremisesInstanceInput{InstanceName: aws.String(n)}); err != nil {
			t.Errorf("DeregisterOnPremisesInstance %s: %v", n, err)
		}
	}
}

func TestCodeDeployRevisions(t *testing.T) {
	t.Parallel()
	c, _ := deployClient(t)
	ctx := context.Background()
	mustDo[*codedeploy.CreateApplicationOutput](t, "CreateApplication")(c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("App")}))
	s3rev := func(bucket, key string, bundle cdtypes.BundleType, version, etag string) *cdtypes.RevisionLocation {
		loc := &cdtypes.S3Location{Bucket: aws.String(bucket), Key: aws.String(key), BundleType: bundle}
		if version != "" {
			loc.Version = aws.String(version)
		}
		if etag != "" {
			loc.ETag = aws.String(etag)
		}
		return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: loc}
	}
	commit := "0123456789abcdef0123456789abcdef01234567"
	ghRev := &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeGitHub,
		GitHubLocation: &cdtypes.GitHubLocation{Repository: aws.String("MyGitHubUserName/CodeDeployGitHubDemo"), CommitId: aws.String(commit)}}
	for _, r := range []struct {
		rev  *cdtypes.RevisionLocation
		desc string
	}{
		{s3rev("codedeploydemobucket", "WordPressApp.zip", cdtypes.BundleTypeZip, "", ""), "first"},
		{s3rev("codedeploydemobucket", "WordPressApp.zip", cdtypes.BundleTypeZip, "v2", "\"abc\""), "versioned"},
		{s3rev("codedeploydemobucket", "api/app.tgz", cdtypes.BundleTypeTarGZip, "", ""), ""},
		{s3rev("otherbucket", "app.tar", cdtypes.BundleTypeTar, "", ""), ""},
		{ghRev, "from GitHub"},
	} {
		if _, err := c.RegisterApplicationRevision(ctx, &codedeploy.RegisterApplicationRevisionInput{ApplicationName: aws.String("App"), Revision: r.rev, Description: aws.String(r.desc)}); err != nil {
			t.Fatalf("RegisterApplicationRevision: %v", err)
		}
	}

	got := mustDo[*codedeploy.GetApplicationRevisionOutput](t, "GetApplicationRevision")(c.GetApplicationRevision(ctx, &codedeploy.GetApplicationRevisionInput{
		ApplicationName: aws.String("App"), Revision: s3rev("codedeploydemobucket", "WordPressApp.zip", cdtypes.BundleTypeZip, "v2", "\"abc\"")}))
	if aws.ToString(got.ApplicationName) != "App" || aws.ToString(got.Revision.S3Location.Version) != "v2" || got.Revision.S3Location.BundleType != cdtypes.BundleTypeZip ||
		aws.ToString(got.RevisionInfo.Description) != "versioned" || got.RevisionInfo.RegisterTime == nil || got.RevisionInfo.FirstUsedTime != nil {
		t.Errorf("GetApplicationRevision = %+v %+v", got.Revision, got.RevisionInfo)
	}
	gh := mustDo[*codedeploy.GetApplicationRevisionOutput](t, "GetApplicationRevision GitHub")(c.GetApplicationRevision(ctx, &codedeploy.GetApplicationRevisionInput{
		ApplicationName: aws.String("App"), Revision: ghRev}))
	if aws.ToString(gh.Revision.GitHubLocation.CommitId) != commit || gh.Revision.RevisionType != cdtypes.RevisionLocationTypeGitHub {
		t.Errorf("GitHub revision = %+v", gh.Revision)
	}

	list := func(in *codedeploy.ListApplicationRevisionsInput) int {
		t.Helper()
		in.ApplicationName = aws.String("App")
		n := 0
		for p := codedeploy.NewListApplicationRevisionsPaginator(c, in); p.HasMorePages(); {
			n += len(mustDo[*codedeploy.ListApplicationRevisionsOutput](t, "ListApplicationRevisions")(p.NextPage(ctx)).Revisions)
		}
		return n
	}
	for _, tc := range []struct {
		name string
		in   *codedeploy.ListApplicationRevisionsInput
		want int
	}{
		{"all", &codedeploy.ListApplicationRevisionsInput{}, 5},
		{"bucket", &codedeploy.ListApplicationRevisionsInput{S3Bucket: aws.String("codedeploydemobucket")}, 3},
		{"prefix", &codedeploy.ListApplicationRevisionsInput{S3Bucket: aws.String("codedeploydemobucket"), S3KeyPrefix: aws.String("api/")}, 1},
		{"sorted", &codedeploy.ListApplicationRevisionsInput{SortBy: cdtypes.ApplicationRevisionSortByLastUsedTime, SortOrder: cdtypes.SortOrderDescending}, 5},
		{"not deployed", &codedeploy.ListApplicationRevisionsInput{Deployed: cdtypes.ListStateFilterActionExclude}, 5},
		{"deployed", &codedeploy.ListApplicationRevisionsInput{Deployed: cdtypes.ListStateFilterActionInclude}, 0},
	} {
		if n := list(tc.in); n != tc.want {
			t.Errorf("ListApplicationRevisions %s: %d revisions, want %d", tc.name, n, tc.want)
		}
	}

	batch := mustDo[*codedeploy.BatchGetApplicationRevisionsOutput](t, "BatchGetApplicationRevisions")(c.BatchGetApplicationRevisions(ctx, &codedeploy.BatchGetApplicationRevisionsInput{
		ApplicationName: aws.String("App"), Revisions: []cdtypes.RevisionLocation{*ghRev, *s3rev("nobucket", "x.zip", cdtypes.BundleTypeZip, "", "")}}))
	if len(batch.Revisions) != 1 || aws.ToString(batch.Revisions[0].GenericRevisionInfo.Description) != "from GitHub" ||
		!strings.Contains(aws.ToString(batch.ErrorMessage), "nobucket") {
		t.Errorf("BatchGetApplicationRevisions = %+v, errorMessage %q", batch.Revisions, aws.ToString(batch.ErrorMessage))
	}

	// Typed errors.
	registerErr := func(app string, rev *cdtypes.RevisionLocation, desc string) error {
		_, err := c.RegisterApplicationRevision(ctx, &codedeploy.RegisterApplicationRevisionInput{ApplicationName: aws.String(app), Revision: rev, Description: aws.String(desc)})
		return err
	}
	_, err := c.GetApplicationRevision(ctx, &codedeploy.GetApplicationRevisionInput{ApplicationName: aws.String("App"),
		Revision: s3rev("codedeploydemobucket", "WordPressApp.zip", cdtypes.BundleTypeZip, "v3", "")})
	wantDeployError(t, err, "RevisionDoesNotExistException", "WordPressApp.zip")
	wantDeployError(t, registerErr("App", &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
		AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String("version: 0.0")}}, ""), "InvalidRevisionException", "Slipway deploys to servers")
	wantDeployError(t, registerErr("App", s3rev("b", "appspec.yaml", cdtypes.BundleTypeYaml, "", ""), ""), "InvalidRevisionException", "zip, tar or tgz")
	wantDeployError(t, registerErr("App", &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeGitHub,
		GitHubLocation: &cdtypes.GitHubLocation{Repository: aws.String("o/r"), CommitId: aws.String("0123abc")}}, ""), "InvalidRevisionException", "full commit ID")
	wantDeployError(t, registerErr("App", s3rev("b", "k.zip", "", "", ""), ""), "InvalidRevisionException", "bundleType is required")
	wantDeployError(t, registerErr("NoApp", ghRev, ""), "ApplicationDoesNotExistException", "NoApp")
	wantDeployError(t, registerErr("App", ghRev, strings.Repeat("x", 1001)), "DescriptionTooLongException", "at most 1000")
	_, err = c.ListApplicationRevisions(ctx, &codedeploy.ListApplicationRevisionsInput{ApplicationName: aws.String("App"), S3KeyPrefix: aws.String("api/")})
	wantDeployError(t, err, "BucketNameFilterRequiredException", "s3Bucket")
	_, err = c.ListApplicationRevisions(ctx, &codedeploy.ListApplicationRevisionsInput{ApplicationName: aws.String("App"), NextToken: aws.String("x")})
	wantDeployError(t, err, "InvalidNextTokenException", "nextToken")
	revs := make([]cdtypes.RevisionLocation, 26)
	for i := range revs {
		revs[i] = *ghRev
	}
	_, err = c.BatchGetApplicationRevisions(ctx, &codedeploy.BatchGetApplicationRevisionsInput{ApplicationName: aws.String("App"), Revisions: revs})
	wantDeployError(t, err, "BatchLimitExceededException", "at most 25")
}
