package codedeploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/store"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testRole    = "arn:aws:iam::123456789012:role/CodeDeployServiceRole"
)

// newService returns a Service on a fresh SQLite store with the given
// limits.
func newService(t *testing.T, limits Limits) *Service {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "slipway.db"), nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return &Service{Store: st, Region: testRegion, AccountID: testAccount, Limits: limits}
}

// wantCode fails t unless err is an *awsproto.Error with the code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	e := awsproto.AsError(err)
	if e == nil || e.Code != code {
		t.Fatalf("%s: error %v, want %s", what, err, code)
	}
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func createApp(t *testing.T, s *Service, name string) {
	t.Helper()
	_, err := s.CreateApplication(t.Context(), &cdapi.CreateApplicationInput{ApplicationName: name})
	ok(t, "CreateApplication "+name, err)
}

// TestPaging pages through every listing with a page size of 2.
func TestPaging(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newService(t, Limits{PageSize: 2})
	for _, n := range []string{"e", "a", "c", "b", "d"} {
		createApp(t, s, n)
	}
	var all []string
	token := ""
	for pages := 0; ; pages++ {
		out := must[*cdapi.ListApplicationsOutput](t, "ListApplications")(s.ListApplications(ctx, &cdapi.ListApplicationsInput{NextToken: token}))
		all = append(all, out.Applications...)
		if out.NextToken == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		token = out.NextToken
	}
	if !slices.Equal(all, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("applications = %q", all)
	}
	_, err := s.ListApplications(ctx, &cdapi.ListApplicationsInput{NextToken: "garbage"})
	wantCode(t, "bad token", err, cdapi.InvalidNextTokenException)
	// A token of another listing is refused.
	cfgs := must[*cdapi.ListDeploymentConfigsOutput](t, "ListDeploymentConfigs")(s.ListDeploymentConfigs(ctx, &cdapi.ListDeploymentConfigsInput{}))
	_, err = s.ListApplications(ctx, &cdapi.ListApplicationsInput{NextToken: cfgs.NextToken})
	wantCode(t, "token of another listing", err, cdapi.InvalidNextTokenException)

	// Deployment configurations: predefined and custom, merged by name.
	for _, n := range []string{"Zed", "Alpha"} {
		_, err := s.CreateDeploymentConfig(ctx, &cdapi.CreateDeploymentConfigInput{DeploymentConfigName: n,
			MinimumHealthyHosts: &cdapi.MinimumHealthyHosts{Type: cdapi.MinimumHealthyHostsTypeHostCount, Value: aws.Int32(1)}})
		ok(t, "CreateDeploymentConfig", err)
	}
	all, token = nil, ""
	for {
		out := must[*cdapi.ListDeploymentConfigsOutput](t, "ListDeploymentConfigs")(s.ListDeploymentConfigs(ctx, &cdapi.ListDeploymentConfigsInput{NextToken: token}))
		all = append(all, out.DeploymentConfigsList...)
		if token = out.NextToken; token == "" {
			break
		}
	}
	want := []string{"Alpha", ConfigAllAtOnce, ConfigHalfAtATime, ConfigOneAtATime, "Zed"}
	if !slices.Equal(all, want) {
		t.Errorf("deployment configs = %q, want %q", all, want)
	}

	// Deployment groups.
	for _, n := range []string{"g3", "g1", "g2"} {
		_, err := s.CreateDeploymentGroup(ctx, &cdapi.CreateDeploymentGroupInput{ApplicationName: "a", DeploymentGroupName: n, ServiceRoleArn: testRole})
		ok(t, "CreateDeploymentGroup", err)
	}
	g1 := must[*cdapi.ListDeploymentGroupsOutput](t, "ListDeploymentGroups")(s.ListDeploymentGroups(ctx, &cdapi.ListDeploymentGroupsInput{ApplicationName: "a"}))
	g2 := must[*cdapi.ListDeploymentGroupsOutput](t, "ListDeploymentGroups 2")(s.ListDeploymentGroups(ctx, &cdapi.ListDeploymentGroupsInput{ApplicationName: "a", NextToken: g1.NextToken}))
	if got := append(g1.DeploymentGroups, g2.DeploymentGroups...); !slices.Equal(got, []string{"g1", "g2", "g3"}) || g2.NextToken != "" {
		t.Errorf("groups = %q, next %q", got, g2.NextToken)
	}
	_, err = s.ListDeploymentGroups(ctx, &cdapi.ListDeploymentGroupsInput{ApplicationName: "b", NextToken: g1.NextToken})
	wantCode(t, "group token of another application", err, cdapi.InvalidNextTokenException)

	// Instances, with a tag filter applied before paging.
	for i, n := range []string{"i1", "i2", "i3", "i4", "i5"} {
		_, err := s.RegisterOnPremisesInstance(ctx, &cdapi.RegisterOnPremisesInstanceInput{InstanceName: n,
			IamUserArn: fmt.Sprintf("arn:aws:iam::123456789012:user/%s", n)})
		ok(t, "Register", err)
		if i%2 == 0 {
			_, err = s.AddTagsToOnPremisesInstances(ctx, &cdapi.AddTagsToOnPremisesInstancesInput{InstanceNames: []string{n}, Tags: []cdapi.Tag{{Key: "role", Value: "web"}}})
			ok(t, "AddTags", err)
		}
	}
	all, token = nil, ""
	for {
		out := must[*cdapi.ListOnPremisesInstancesOutput](t, "ListOnPremisesInstances")(s.ListOnPremisesInstances(ctx, &cdapi.ListOnPremisesInstancesInput{
			NextToken: token, TagFilters: []cdapi.TagFilter{kv("role", "web")}}))
		all = append(all, out.InstanceNames...)
		if token = out.NextToken; token == "" {
			break
		}
	}
	if !slices.Equal(all, []string{"i1", "i3", "i5"}) {
		t.Errorf("tagged instances = %q", all)
	}

	// Revisions, by offset.
	for _, k := range []string{"1.zip", "2.zip", "3.zip"} {
		_, err := s.RegisterApplicationRevision(ctx, &cdapi.RegisterApplicationRevisionInput{ApplicationName: "a",
			Revision: &cdapi.RevisionLocation{RevisionType: "S3", S3Location: &cdapi.S3Location{Bucket: "b", Key: k, BundleType: "zip"}}})
		ok(t, "RegisterApplicationRevision", err)
	}
	r1 := must[*cdapi.ListApplicationRevisionsOutput](t, "ListApplicationRevisions")(s.ListApplicationRevisions(ctx, &cdapi.ListApplicationRevisionsInput{ApplicationName: "a"}))
	r2 := must[*cdapi.ListApplicationRevisionsOutput](t, "ListApplicationRevisions 2")(s.ListApplicationRevisions(ctx, &cdapi.ListApplicationRevisionsInput{ApplicationName: "a", NextToken: r1.NextToken}))
	if len(r1.Revisions) != 2 || len(r2.Revisions) != 1 || r2.NextToken != "" {
		t.Errorf("revision pages: %d + %d, next %q", len(r1.Revisions), len(r2.Revisions), r2.NextToken)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newService(t, Limits{Applications: 1, DeploymentGroups: 1, DeploymentConfigs: 1, TagsPerResource: 2, InstanceTags: 2})
	createApp(t, s, "one")
	_, err := s.CreateApplication(ctx, &cdapi.CreateApplicationInput{ApplicationName: "two"})
	wantCode(t, "second application", err, cdapi.ApplicationLimitExceededException)
	_, err = s.CreateDeploymentGroup(ctx, &cdapi.CreateDeploymentGroupInput{ApplicationName: "one", DeploymentGroupName: "g", ServiceRoleArn: testRole})
	ok(t, "CreateDeploymentGroup", err)
	_, err = s.CreateDeploymentGroup(ctx, &cdapi.CreateDeploymentGroupInput{ApplicationName: "one", DeploymentGroupName: "h", ServiceRoleArn: testRole})
	wantCode(t, "second group", err, cdapi.DeploymentGroupLimitExceededException)
	mh := &cdapi.MinimumHealthyHosts{Type: cdapi.MinimumHealthyHostsTypeHostCount, Value: aws.Int32(0)}
	_, err = s.CreateDeploymentConfig(ctx, &cdapi.CreateDeploymentConfigInput{DeploymentConfigName: "c1", MinimumHealthyHosts: mh})
	ok(t, "CreateDeploymentConfig", err)
	_, err = s.CreateDeploymentConfig(ctx, &cdapi.CreateDeploymentConfigInput{DeploymentConfigName: "c2", MinimumHealthyHosts: mh})
	wantCode(t, "second config", err, cdapi.DeploymentConfigLimitExceededException)

	arn := s.ApplicationARN("one")
	_, err = s.TagResource(ctx, &cdapi.TagResourceInput{ResourceArn: arn, Tags: []cdapi.Tag{{Key: "a"}, {Key: "b"}}})
	ok(t, "TagResource", err)
	_, err = s.TagResource(ctx, &cdapi.TagResourceInput{ResourceArn: arn, Tags: []cdapi.Tag{{Key: "b", Value: "x"}}})
	ok(t, "TagResource replacing a value", err)
	_, err = s.TagResource(ctx, &cdapi.TagResourceInput{ResourceArn: arn, Tags: []cdapi.Tag{{Key: "c"}}})
	wantCode(t, "third tag", err, cdapi.InvalidTagsToAddException)

	_, err = s.RegisterOnPremisesInstance(ctx, &cdapi.RegisterOnPremisesInstanceInput{InstanceName: "i", IamSessionArn: s.InstanceARN("i")})
	ok(t, "Register with the instance's own ARN", err)
	add := func(keys ...string) error {
		var tags []cdapi.Tag
		for _, k := range keys {
			tags = append(tags, cdapi.Tag{Key: k, Value: "v"})
		}
		_, err := s.AddTagsToOnPremisesInstances(ctx, &cdapi.AddTagsToOnPremisesInstancesInput{InstanceNames: []string{"i"}, Tags: tags})
		return err
	}
	ok(t, "AddTags", add("a", "b"))
	ok(t, "AddTags existing keys", add("a", "b"))
	wantCode(t, "third instance tag", add("c"), cdapi.TagLimitExceededException)
}

// TestRenames checks that renaming an application or a group carries
// its groups, revisions and tags along.
func TestRenames(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newService(t, Limits{})
	_, err := s.CreateApplication(ctx, &cdapi.CreateApplicationInput{ApplicationName: "old", Tags: []cdapi.Tag{{Key: "team", Value: "web"}}})
	ok(t, "CreateApplication", err)
	created := must[*cdapi.CreateDeploymentGroupOutput](t, "CreateDeploymentGroup")(s.CreateDeploymentGroup(ctx, &cdapi.CreateDeploymentGroupInput{
		ApplicationName: "old", DeploymentGroupName: "g", ServiceRoleArn: testRole, Tags: []cdapi.Tag{{Key: "tier", Value: "1"}}}))
	rev := &cdapi.RevisionLocation{RevisionType: "GitHub", GitHubLocation: &cdapi.GitHubLocation{Repository: "o/r", CommitId: strings.Repeat("a", 40)}}
	_, err = s.RegisterApplicationRevision(ctx, &cdapi.RegisterApplicationRevisionInput{ApplicationName: "old", Revision: rev})
	ok(t, "RegisterApplicationRevision", err)

	_, err = s.UpdateApplication(ctx, &cdapi.UpdateApplicationInput{ApplicationName: "old", NewApplicationName: "new"})
	ok(t, "UpdateApplication", err)
	tags := func(arn string) []cdapi.Tag {
		t.Helper()
		return must[*cdapi.ListTagsForResourceOutput](t, "ListTagsForResource "+arn)(s.ListTagsForResource(ctx, &cdapi.ListTagsForResourceInput{ResourceArn: arn})).Tags
	}
	if got := tags(s.ApplicationARN("new")); len(got) != 1 || got[0].Key != "team" {
		t.Errorf("application tags after rename = %v", got)
	}
	if got := tags(s.DeploymentGroupARN("new", "g")); len(got) != 1 || got[0].Key != "tier" {
		t.Errorf("group tags after application rename = %v", got)
	}
	g := must[*cdapi.GetDeploymentGroupOutput](t, "GetDeploymentGroup")(s.GetDeploymentGroup(ctx, &cdapi.GetDeploymentGroupInput{ApplicationName: "new", DeploymentGroupName: "g"}))
	if g.DeploymentGroupInfo.ApplicationName != "new" || g.DeploymentGroupInfo.DeploymentGroupId != created.DeploymentGroupId {
		t.Errorf("group after application rename = %+v", g.DeploymentGroupInfo)
	}
	_, err = s.GetApplicationRevision(ctx, &cdapi.GetApplicationRevisionInput{ApplicationName: "new", Revision: rev})
	ok(t, "GetApplicationRevision after rename", err)
	_, err = s.ListTagsForResource(ctx, &cdapi.ListTagsForResourceInput{ResourceArn: s.ApplicationARN("old")})
	wantCode(t, "old application ARN", err, cdapi.InvalidArnException)

	_, err = s.UpdateDeploymentGroup(ctx, &cdapi.UpdateDeploymentGroupInput{ApplicationName: "new", CurrentDeploymentGroupName: "g", NewDeploymentGroupName: "h"})
	ok(t, "rename group", err)
	if got := tags(s.DeploymentGroupARN("new", "h")); len(got) != 1 || got[0].Key != "tier" {
		t.Errorf("group tags after group rename = %v", got)
	}
	_, err = s.ListTagsForResource(ctx, &cdapi.ListTagsForResourceInput{ResourceArn: s.DeploymentGroupARN("new", "g")})
	wantCode(t, "old group ARN", err, cdapi.InvalidArnException)

	// Deleting the application deletes its tags and its groups' tags: a
	// new application of the same name starts bare.
	_, err = s.DeleteApplication(ctx, &cdapi.DeleteApplicationInput{ApplicationName: "new"})
	ok(t, "DeleteApplication", err)
	createApp(t, s, "new")
	if got := tags(s.ApplicationARN("new")); len(got) != 0 {
		t.Errorf("tags of a recreated application = %v", got)
	}
	_, err = s.CreateDeploymentGroup(ctx, &cdapi.CreateDeploymentGroupInput{ApplicationName: "new", DeploymentGroupName: "h", ServiceRoleArn: testRole})
	ok(t, "recreate group", err)
	if got := tags(s.DeploymentGroupARN("new", "h")); len(got) != 0 {
		t.Errorf("tags of a recreated group = %v", got)
	}
}

// TestUpdateDeploymentGroupMerge checks the update semantics: members left
// out keep their values, empty lists clear, and filters and tag sets
// replace each other.
func TestUpdateDeploymentGroupMerge(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newService(t, Limits{})
	createApp(t, s, "app")
	_, err := s.CreateDeploymentGroup(ctx, &cdapi.CreateDeploymentGroupInput{
		ApplicationName: "app", DeploymentGroupName: "g", ServiceRoleArn: testRole,
		DeploymentConfigName:         ConfigHalfAtATime,
		OnPremisesInstanceTagFilters: []cdapi.TagFilter{kv("Name", "web")},
		TriggerConfigurations: []cdapi.TriggerConfig{{TriggerName: "t", TriggerTargetArn: "arn:aws:sns:us-east-1:123456789012:topic",
			TriggerEvents: []string{cdapi.TriggerEventTypeDeploymentFailure}}},
		AutoRollbackConfiguration: &cdapi.AutoRollbackConfiguration{Enabled: aws.Bool(true), Events: []string{"DEPLOYMENT_FAILURE", "DEPLOYMENT_FAILURE"}},
	})
	ok(t, "CreateDeploymentGroup", err)
	get := func() *cdapi.DeploymentGroupInfo {
		t.Helper()
		return must[*cdapi.GetDeploymentGroupOutput](t, "GetDeploymentGroup")(s.GetDeploymentGroup(ctx, &cdapi.GetDeploymentGroupInput{ApplicationName: "app", DeploymentGroupName: "g"})).DeploymentGroupInfo
	}
	info := get()
	if info.DeploymentStyle == nil || info.DeploymentStyle.DeploymentType != "IN_PLACE" || info.DeploymentStyle.DeploymentOption != "WITHOUT_TRAFFIC_CONTROL" ||
		info.OutdatedInstancesStrategy != "UPDATE" || info.ComputePlatform != "Server" ||
		!slices.Equal(info.AutoRollbackConfiguration.Events, []string{"DEPLOYMENT_FAILURE"}) {
		t.Errorf("defaults = %s", dumpJSON(info))
	}

	// Only the service role changes.
	_, err = s.UpdateDeploymentGroup(ctx, &cdapi.UpdateDeploymentGroupInput{ApplicationName: "app", CurrentDeploymentGroupName: "g",
		ServiceRoleArn: "arn:aws:iam::123456789012:role/path/Other"})
	ok(t, "update role", err)
	info = get()
	if info.ServiceRoleArn != "arn:aws:iam::123456789012:role/path/Other" || info.DeploymentConfigName != ConfigHalfAtATime ||
		len(info.OnPremisesInstanceTagFilters) != 1 || len(info.TriggerConfigurations) != 1 {
		t.Errorf("after a role update = %s", dumpJSON(info))
	}

	// A tag set replaces the filters; empty triggers clear them.
	_, err = s.UpdateDeploymentGroup(ctx, &cdapi.UpdateDeploymentGroupInput{ApplicationName: "app", CurrentDeploymentGroupName: "g",
		OnPremisesTagSet:      &cdapi.OnPremisesTagSet{OnPremisesTagSetList: [][]cdapi.TagFilter{{kv("a", "1"), kv("a", "2")}, {keyOnly("b")}}},
		TriggerConfigurations: []cdapi.TriggerConfig{}})
	ok(t, "update to a tag set", err)
	info = get()
	if info.OnPremisesInstanceTagFilters != nil || info.OnPremisesTagSet == nil || len(info.OnPremisesTagSet.OnPremisesTagSetList) != 2 || info.TriggerConfigurations != nil {
		t.Errorf("after switching to a tag set = %s", dumpJSON(info))
	}
	// Filters replace the tag set again.
	_, err = s.UpdateDeploymentGroup(ctx, &cdapi.UpdateDeploymentGroupInput{ApplicationName: "app", CurrentDeploymentGroupName: "g",
		OnPremisesInstanceTagFilters: []cdapi.TagFilter{valueOnly("x")}})
	ok(t, "update to filters", err)
	info = get()
	if info.OnPremisesTagSet != nil || len(info.OnPremisesInstanceTagFilters) != 1 {
		t.Errorf("after switching to filters = %s", dumpJSON(info))
	}
	// Both in one call is refused.
	_, err = s.UpdateDeploymentGroup(ctx, &cdapi.UpdateDeploymentGroupInput{ApplicationName: "app", CurrentDeploymentGroupName: "g",
		OnPremisesInstanceTagFilters: []cdapi.TagFilter{valueOnly("x")},
		OnPremisesTagSet:             &cdapi.OnPremisesTagSet{OnPremisesTagSetList: [][]cdapi.TagFilter{{keyOnly("b")}}}})
	wantCode(t, "both", err, cdapi.InvalidOnPremisesTagCombinationException)

	// The configuration in use cannot be deleted; after switching away, it can.
	_, err = s.CreateDeploymentConfig(ctx, &cdapi.CreateDeploymentConfigInput{DeploymentConfigName: "custom",
		MinimumHealthyHosts: &cdapi.MinimumHealthyHosts{Type: "FLEET_PERCENT", Value: aws.Int32(99)}})
	ok(t, "CreateDeploymentConfig", err)
	_, err = s.UpdateDeploymentGroup(ctx, &cdapi.UpdateDeploymentGroupInput{ApplicationName: "app", CurrentDeploymentGroupName: "g", DeploymentConfigName: "custom"})
	ok(t, "use custom", err)
	_, err = s.DeleteDeploymentConfig(ctx, &cdapi.DeleteDeploymentConfigInput{DeploymentConfigName: "custom"})
	wantCode(t, "delete in use", err, cdapi.DeploymentConfigInUseException)
	_, err = s.UpdateDeploymentGroup(ctx, &cdapi.UpdateDeploymentGroupInput{ApplicationName: "app", CurrentDeploymentGroupName: "g", DeploymentConfigName: ConfigAllAtOnce})
	ok(t, "use AllAtOnce", err)
	_, err = s.DeleteDeploymentConfig(ctx, &cdapi.DeleteDeploymentConfigInput{DeploymentConfigName: "custom"})
	ok(t, "delete no longer used", err)
}

// TestRevisionListing checks the filters and sort orders of
// ListApplicationRevisions and the deployed filter through a group's
// target revision.
func TestRevisionListing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newService(t, Limits{})
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	createApp(t, s, "app")
	s3 := func(bucket, key string) *cdapi.RevisionLocation {
		return &cdapi.RevisionLocation{RevisionType: "S3", S3Location: &cdapi.S3Location{Bucket: bucket, Key: key, BundleType: "tgz"}}
	}
	for _, r := range []*cdapi.RevisionLocation{s3("b1", "web/1.tgz"), s3("b1", "web/2.tgz"), s3("b1", "api/1.tgz"), s3("b2", "web/1.tgz"),
		{GitHubLocation: &cdapi.GitHubLocation{Repository: "o/r", CommitId: strings.Repeat("b", 40)}}} {
		_, err := s.RegisterApplicationRevision(ctx, &cdapi.RegisterApplicationRevisionInput{ApplicationName: "app", Revision: r})
		ok(t, "RegisterApplicationRevision", err)
	}
	list := func(in cdapi.ListApplicationRevisionsInput) []string {
		t.Helper()
		in.ApplicationName = "app"
		out := must[*cdapi.ListApplicationRevisionsOutput](t, "ListApplicationRevisions")(s.ListApplicationRevisions(ctx, &in))
		var names []string
		for _, r := range out.Revisions {
			if r.S3Location != nil {
				names = append(names, r.S3Location.Bucket+"/"+r.S3Location.Key)
			} else {
				names = append(names, "gh:"+r.GitHubLocation.Repository)
			}
		}
		return names
	}
	for _, tc := range []struct {
		name string
		in   cdapi.ListApplicationRevisionsInput
		want []string
	}{
		{"all", cdapi.ListApplicationRevisionsInput{}, []string{"b1/web/1.tgz", "b1/web/2.tgz", "b1/api/1.tgz", "b2/web/1.tgz", "gh:o/r"}},
		{"descending", cdapi.ListApplicationRevisionsInput{SortBy: "registerTime", SortOrder: "descending"}, []string{"gh:o/r", "b2/web/1.tgz", "b1/api/1.tgz", "b1/web/2.tgz", "b1/web/1.tgz"}},
		{"bucket", cdapi.ListApplicationRevisionsInput{S3Bucket: "b1"}, []string{"b1/web/1.tgz", "b1/web/2.tgz", "b1/api/1.tgz"}},
		{"bucket and prefix", cdapi.ListApplicationRevisionsInput{S3Bucket: "b1", S3KeyPrefix: "web/"}, []string{"b1/web/1.tgz", "b1/web/2.tgz"}},
		{"deployed include", cdapi.ListApplicationRevisionsInput{Deployed: "include"}, nil},
		{"deployed exclude", cdapi.ListApplicationRevisionsInput{Deployed: "exclude", S3Bucket: "b2"}, []string{"b2/web/1.tgz"}},
	} {
		if got := list(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	_, err := s.ListApplicationRevisions(ctx, &cdapi.ListApplicationRevisionsInput{ApplicationName: "app", S3KeyPrefix: "web/"})
	wantCode(t, "prefix without bucket", err, cdapi.BucketNameFilterRequiredException)

	// A group's target revision (set by deployments) counts as deployed,
	// and last-used sorting follows use.
	_, err = s.CreateDeploymentGroup(ctx, &cdapi.CreateDeploymentGroupInput{ApplicationName: "app", DeploymentGroupName: "g", ServiceRoleArn: testRole})
	ok(t, "CreateDeploymentGroup", err)
	ok(t, "set target", s.Store.InTx(ctx, func(q store.Queries) error {
		g, err := q.GetDeploymentGroup(ctx, "app", "g")
		if err != nil {
			return err
		}
		info, err := decodeGroup(g)
		if err != nil {
			return err
		}
		info.TargetRevision = s3("b1", "web/2.tgz")
		if err := encodeGroup(g, info); err != nil {
			return err
		}
		return q.UpdateDeploymentGroup(ctx, "g", g)
	}))
	key := must[string](t, "RevisionKey")(RevisionKey(s3("b1", "web/2.tgz")))
	ok(t, "MarkApplicationRevisionUsed", s.Store.MarkApplicationRevisionUsed(ctx, "app", key, clock.Add(time.Hour)))
	if got := list(cdapi.ListApplicationRevisionsInput{Deployed: "include"}); !slices.Equal(got, []string{"b1/web/2.tgz"}) {
		t.Errorf("deployed include = %q", got)
	}
	if got := list(cdapi.ListApplicationRevisionsInput{SortBy: "lastUsedTime", SortOrder: "descending", S3Bucket: "b1"}); !slices.Equal(got, []string{"b1/web/2.tgz", "b1/api/1.tgz", "b1/web/1.tgz"}) {
		t.Errorf("by last use = %q", got)
	}
	got := must[*cdapi.GetApplicationRevisionOutput](t, "GetApplicationRevision")(s.GetApplicationRevision(ctx, &cdapi.GetApplicationRevisionInput{ApplicationName: "app", Revision: s3("b1", "web/2.tgz")}))
	if info := got.RevisionInfo; !slices.Equal(info.DeploymentGroups, []string{"g"}) || info.FirstUsedTime == nil || info.LastUsedTime == nil || info.RegisterTime == nil {
		t.Errorf("revision info = %s", dumpJSON(info))
	}
}

// TestTagSetValidationDoesNotPanic sends deployment groups with tag sets
// through the HTTP handler: the generated validation of nested lists
// indexes them wrongly (see validate.go), which the handler must avoid.
func TestTagSetValidationDoesNotPanic(t *testing.T) {
	t.Parallel()
	s := newService(t, Limits{})
	createApp(t, s, "app")
	srv := &awsproto.Server{}
	s.Register(srv)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	call := func(op, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.URL, strings.NewReader(body))
		req.Header.Set("X-Amz-Target", cdapi.TargetPrefix+"."+op)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, out
	}
	set := `{"onPremisesTagSetList":[[{"Key":"a","Value":"1","Type":"KEY_AND_VALUE"},{"Key":"b","Type":"KEY_ONLY"},{"Value":"x","Type":"VALUE_ONLY"}],[{"Key":"c","Type":"KEY_ONLY"}]]}`
	status, out := call("CreateDeploymentGroup", `{"applicationName":"app","deploymentGroupName":"g","serviceRoleArn":"`+testRole+`","onPremisesTagSet":`+set+`}`)
	if status != 200 {
		t.Fatalf("CreateDeploymentGroup with a tag set: %d %v", status, out)
	}
	status, out = call("UpdateDeploymentGroup", `{"applicationName":"app","currentDeploymentGroupName":"g","onPremisesTagSet":`+set+`}`)
	if status != 200 {
		t.Fatalf("UpdateDeploymentGroup with a tag set: %d %v", status, out)
	}
	// Enum violations in a tag set are still found, at the right path.
	status, out = call("UpdateDeploymentGroup", `{"applicationName":"app","currentDeploymentGroupName":"g",
		"onPremisesTagSet":{"onPremisesTagSetList":[[{"Key":"a","Type":"KEY_ONLY"}],[{"Key":"b","Type":"KEY_ONLY"},{"Key":"c","Type":"BOGUS"}]]},
		"ec2TagSet":{"ec2TagSetList":[[{"Key":"a","Type":"NOPE"}]]}}`)
	msg, _ := out["message"].(string)
	if status != 400 || out["__type"] != awsproto.ValidationException ||
		!strings.Contains(msg, "onPremisesTagSet.onPremisesTagSetList[1][1].Type") || !strings.Contains(msg, "ec2TagSet.ec2TagSetList[0][0].Type") {
		t.Errorf("bad enum in a tag set: %d %v", status, out)
	}
	// Required members are still required.
	status, out = call("CreateDeploymentGroup", `{"applicationName":"app","deploymentGroupName":"h"}`)
	if status != 400 || out["__type"] != awsproto.ValidationException || !strings.Contains(out["message"].(string), "serviceRoleArn") {
		t.Errorf("missing serviceRoleArn: %d %v", status, out)
	}

	// Nested lists get their own loop variables in the generated
	// validators: a tag set whose group is longer than the list of groups
	// validates without a panic.
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("generated OnPremisesTagSet.Validate panics on [[a, b]]: %v", p)
			}
		}()
		_ = (&cdapi.OnPremisesTagSet{OnPremisesTagSetList: [][]cdapi.TagFilter{{keyOnly("a"), keyOnly("b")}}}).Validate()
	}()
}

func dumpJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
