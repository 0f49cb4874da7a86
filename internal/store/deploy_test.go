package store

import (
	"errors"
	"testing"
	"time"
)

// The DeployQueries part of the conformance suite. exerciseDeploy runs it
// on the Stores open returns, as exercise runs the rest; TestSQLiteDeploy
// and TestPostgresDeploy run it on both databases.
func exerciseDeploy(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, Store)
	}{
		{"Applications", testApplications},
		{"ApplicationRenameDeleteCascade", testApplicationCascade},
		{"DeploymentConfigs", testDeploymentConfigs},
		{"DeploymentGroups", testDeploymentGroups},
		{"OnPremisesInstances", testOnPremisesInstances},
		{"OnPremisesInstanceTags", testOnPremisesInstanceTags},
		{"ApplicationRevisions", testApplicationRevisions},
		{"DeployInTx", testDeployInTx},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
}

func TestSQLiteDeploy(t *testing.T) {
	t.Parallel()
	exerciseDeploy(t, openSQLiteTemp)
}

func TestPostgresDeploy(t *testing.T) {
	t.Parallel()
	postgresAdminDSN(t)
	exerciseDeploy(t, openPostgresTemp)
}

func applicationName(a *Application) string             { return a.Name }
func configName(c *DeploymentConfig) string             { return c.Name }
func groupName(g *DeploymentGroup) string               { return g.Name }
func onPremName(i *OnPremisesInstance) string           { return i.Name }
func revisionKey(r *ApplicationRevision) string         { return r.Key }
func applicationOf(g *DeploymentGroup) string           { return g.Application + "/" + g.Name }
func revisionApplication(r *ApplicationRevision) string { return r.Application + "/" + r.Key }

func testApplications(t *testing.T, s Store) {
	ctx := t.Context()
	as, err := s.ListApplications(ctx, Page{})
	wantKeys(t, "ListApplications empty", as, err, applicationName)
	_, err = s.GetApplication(ctx, "a")
	wantErr(t, "GetApplication missing", err, ErrNotFound)
	wantErr(t, "DeleteApplication missing", s.DeleteApplication(ctx, "a"), ErrNotFound)
	wantErr(t, "RenameApplication missing", s.RenameApplication(ctx, "a", "b"), ErrNotFound)

	a := &Application{Name: "web", ID: "id-web", ComputePlatform: "Server", Created: at(0)}
	must(t, "CreateApplication", s.CreateApplication(ctx, a))
	got, err := s.GetApplication(ctx, "web")
	must(t, "GetApplication", err)
	wantEqual(t, "GetApplication", got, a)

	wantErr(t, "CreateApplication same name", s.CreateApplication(ctx, &Application{Name: "web", ID: "other", ComputePlatform: "Server"}), ErrExists)
	wantErr(t, "CreateApplication same ID", s.CreateApplication(ctx, &Application{Name: "other", ID: "id-web", ComputePlatform: "Server"}), ErrExists)

	// Byte-wise order: "B" < "_a" < "a" < "web".
	before := time.Now().Add(-time.Second)
	for _, n := range []string{"a", "B", "_a"} {
		x := &Application{Name: n, ID: "id-" + n, ComputePlatform: "Server"}
		must(t, "CreateApplication "+n, s.CreateApplication(ctx, x))
		if x.Created.Before(before) || x.Created.Location() != time.UTC {
			t.Errorf("zero Created was set to %v, want the current UTC time", x.Created)
		}
	}
	as, err = s.ListApplications(ctx, Page{})
	wantKeys(t, "ListApplications", as, err, applicationName, "B", "_a", "a", "web")
	as, err = s.ListApplications(ctx, Page{After: "B", Limit: 2})
	wantKeys(t, "ListApplications page", as, err, applicationName, "_a", "a")
	n, err := s.CountApplications(ctx)
	must(t, "CountApplications", err)
	if n != 4 {
		t.Errorf("CountApplications = %d, want 4", n)
	}

	wantErr(t, "RenameApplication to a taken name", s.RenameApplication(ctx, "web", "a"), ErrExists)
	must(t, "RenameApplication to itself", s.RenameApplication(ctx, "web", "web"))
	must(t, "RenameApplication", s.RenameApplication(ctx, "web", "site"))
	got, err = s.GetApplication(ctx, "site")
	must(t, "GetApplication renamed", err)
	if got.ID != "id-web" || !got.Created.Equal(at(0)) {
		t.Errorf("renamed application = %+v, want ID and creation time kept", got)
	}
	_, err = s.GetApplication(ctx, "web")
	wantErr(t, "GetApplication old name", err, ErrNotFound)

	must(t, "DeleteApplication", s.DeleteApplication(ctx, "site"))
	as, err = s.ListApplications(ctx, Page{})
	wantKeys(t, "ListApplications after delete", as, err, applicationName, "B", "_a", "a")
}

// testApplicationCascade checks that renaming and deleting an application
// carry its deployment groups and revisions along, and no one else's.
func testApplicationCascade(t *testing.T, s Store) {
	ctx := t.Context()
	for _, n := range []string{"one", "two"} {
		must(t, "CreateApplication", s.CreateApplication(ctx, &Application{Name: n, ID: "id-" + n, ComputePlatform: "Server"}))
		for _, g := range []string{"g1", "g2"} {
			must(t, "CreateDeploymentGroup", s.CreateDeploymentGroup(ctx, &DeploymentGroup{
				Application: n, Name: g, ID: n + "-" + g, ConfigName: "CodeDeployDefault.OneAtATime", Info: []byte(`{}`)}))
		}
		must(t, "PutApplicationRevision", s.PutApplicationRevision(ctx, &ApplicationRevision{
			Application: n, Key: "S3|b|k||", Type: "S3", Location: []byte(`{}`), S3Bucket: "b", S3Key: "k"}))
	}
	must(t, "RenameApplication", s.RenameApplication(ctx, "one", "uno"))
	gs, err := s.ListDeploymentGroups(ctx, "uno", Page{})
	wantKeys(t, "groups of the renamed application", gs, err, applicationOf, "uno/g1", "uno/g2")
	gs, err = s.ListDeploymentGroups(ctx, "one", Page{})
	wantKeys(t, "groups of the old name", gs, err, applicationOf)
	g, err := s.GetDeploymentGroupByID(ctx, "one-g1")
	must(t, "GetDeploymentGroupByID", err)
	if g.Application != "uno" {
		t.Errorf("group application after rename = %q, want uno", g.Application)
	}
	rs, err := s.ListApplicationRevisions(ctx, "uno")
	wantKeys(t, "revisions of the renamed application", rs, err, revisionApplication, "uno/S3|b|k||")

	must(t, "DeleteApplication", s.DeleteApplication(ctx, "uno"))
	gs, err = s.ListDeploymentGroups(ctx, "uno", Page{})
	wantKeys(t, "groups after delete", gs, err, applicationOf)
	_, err = s.GetDeploymentGroupByID(ctx, "one-g1")
	wantErr(t, "GetDeploymentGroupByID after delete", err, ErrNotFound)
	rs, err = s.ListApplicationRevisions(ctx, "uno")
	wantKeys(t, "revisions after delete", rs, err, revisionApplication)
	// The other application is untouched.
	gs, err = s.ListDeploymentGroups(ctx, "two", Page{})
	wantKeys(t, "groups of the other application", gs, err, applicationOf, "two/g1", "two/g2")
	rs, err = s.ListApplicationRevisions(ctx, "two")
	wantKeys(t, "revisions of the other application", rs, err, revisionApplication, "two/S3|b|k||")
}

func testDeploymentConfigs(t *testing.T, s Store) {
	ctx := t.Context()
	cs, err := s.ListDeploymentConfigs(ctx)
	wantKeys(t, "ListDeploymentConfigs empty", cs, err, configName)
	_, err = s.GetDeploymentConfig(ctx, "x")
	wantErr(t, "GetDeploymentConfig missing", err, ErrNotFound)
	wantErr(t, "DeleteDeploymentConfig missing", s.DeleteDeploymentConfig(ctx, "x"), ErrNotFound)

	c := &DeploymentConfig{Name: "ThreeQuartersHealthy", ID: "c1", ComputePlatform: "Server",
		MinHealthyType: "FLEET_PERCENT", MinHealthyValue: 75, Created: at(time.Second)}
	must(t, "CreateDeploymentConfig", s.CreateDeploymentConfig(ctx, c))
	got, err := s.GetDeploymentConfig(ctx, c.Name)
	must(t, "GetDeploymentConfig", err)
	wantEqual(t, "GetDeploymentConfig", got, c)
	wantErr(t, "CreateDeploymentConfig again", s.CreateDeploymentConfig(ctx, &DeploymentConfig{Name: c.Name, ID: "c2"}), ErrExists)
	must(t, "CreateDeploymentConfig 2", s.CreateDeploymentConfig(ctx, &DeploymentConfig{Name: "AtLeastTwo", ID: "c3",
		ComputePlatform: "Server", MinHealthyType: "HOST_COUNT", MinHealthyValue: 2}))
	cs, err = s.ListDeploymentConfigs(ctx)
	wantKeys(t, "ListDeploymentConfigs", cs, err, configName, "AtLeastTwo", "ThreeQuartersHealthy")
	n, err := s.CountDeploymentConfigs(ctx)
	must(t, "CountDeploymentConfigs", err)
	if n != 2 {
		t.Errorf("CountDeploymentConfigs = %d, want 2", n)
	}
	must(t, "DeleteDeploymentConfig", s.DeleteDeploymentConfig(ctx, "AtLeastTwo"))
	cs, err = s.ListDeploymentConfigs(ctx)
	wantKeys(t, "ListDeploymentConfigs after delete", cs, err, configName, "ThreeQuartersHealthy")
}

func testDeploymentGroups(t *testing.T, s Store) {
	ctx := t.Context()
	gs, err := s.ListDeploymentGroups(ctx, "app", Page{})
	wantKeys(t, "ListDeploymentGroups empty", gs, err, groupName)
	_, err = s.GetDeploymentGroup(ctx, "app", "g")
	wantErr(t, "GetDeploymentGroup missing", err, ErrNotFound)
	wantErr(t, "DeleteDeploymentGroup missing", s.DeleteDeploymentGroup(ctx, "app", "g"), ErrNotFound)
	wantErr(t, "UpdateDeploymentGroup missing", s.UpdateDeploymentGroup(ctx, "g", &DeploymentGroup{Application: "app", Name: "g"}), ErrNotFound)

	g := &DeploymentGroup{Application: "app", Name: "Fleet", ID: "id-1", ConfigName: "custom",
		Info: []byte(`{"serviceRoleArn":"arn:aws:iam::123456789012:role/r"}`), Created: at(0), Updated: at(0)}
	must(t, "CreateDeploymentGroup", s.CreateDeploymentGroup(ctx, g))
	got, err := s.GetDeploymentGroup(ctx, "app", "Fleet")
	must(t, "GetDeploymentGroup", err)
	wantEqual(t, "GetDeploymentGroup", got, g)
	got, err = s.GetDeploymentGroupByID(ctx, "id-1")
	must(t, "GetDeploymentGroupByID", err)
	wantEqual(t, "GetDeploymentGroupByID", got, g)

	wantErr(t, "CreateDeploymentGroup same name", s.CreateDeploymentGroup(ctx, &DeploymentGroup{Application: "app", Name: "Fleet", ID: "id-2"}), ErrExists)
	wantErr(t, "CreateDeploymentGroup same ID", s.CreateDeploymentGroup(ctx, &DeploymentGroup{Application: "other", Name: "x", ID: "id-1"}), ErrExists)
	// The same name in another application is another group.
	must(t, "CreateDeploymentGroup other app", s.CreateDeploymentGroup(ctx, &DeploymentGroup{Application: "other", Name: "Fleet", ID: "id-3", ConfigName: "custom"}))
	for i, n := range []string{"b", "A", "c"} {
		must(t, "CreateDeploymentGroup "+n, s.CreateDeploymentGroup(ctx, &DeploymentGroup{Application: "app", Name: n, ID: "id-x" + n,
			ConfigName: []string{"custom", "CodeDeployDefault.AllAtOnce", "custom"}[i]}))
	}
	gs, err = s.ListDeploymentGroups(ctx, "app", Page{})
	wantKeys(t, "ListDeploymentGroups", gs, err, groupName, "A", "Fleet", "b", "c")
	gs, err = s.ListDeploymentGroups(ctx, "app", Page{After: "Fleet", Limit: 1})
	wantKeys(t, "ListDeploymentGroups page", gs, err, groupName, "b")
	n, err := s.CountDeploymentGroups(ctx, "app")
	must(t, "CountDeploymentGroups", err)
	if n != 4 {
		t.Errorf("CountDeploymentGroups = %d, want 4", n)
	}
	n, err = s.CountDeploymentGroupsByConfig(ctx, "custom")
	must(t, "CountDeploymentGroupsByConfig", err)
	if n != 4 { // app/Fleet, app/b, app/c, other/Fleet
		t.Errorf("CountDeploymentGroupsByConfig = %d, want 4", n)
	}

	// Update in place, then rename; the ID and creation time stay.
	upd := &DeploymentGroup{Application: "app", Name: "Fleet", ConfigName: "CodeDeployDefault.AllAtOnce", Info: []byte(`{"v":2}`), Updated: at(time.Minute)}
	must(t, "UpdateDeploymentGroup", s.UpdateDeploymentGroup(ctx, "Fleet", upd))
	if upd.ID != "id-1" || !upd.Created.Equal(at(0)) {
		t.Errorf("UpdateDeploymentGroup wrote back ID %q created %v, want id-1 and %v", upd.ID, upd.Created, at(0))
	}
	got, err = s.GetDeploymentGroup(ctx, "app", "Fleet")
	must(t, "GetDeploymentGroup updated", err)
	wantEqual(t, "updated group", got, &DeploymentGroup{Application: "app", Name: "Fleet", ID: "id-1",
		ConfigName: "CodeDeployDefault.AllAtOnce", Info: []byte(`{"v":2}`), Created: at(0), Updated: at(time.Minute)})
	wantErr(t, "rename to a taken name", s.UpdateDeploymentGroup(ctx, "Fleet", &DeploymentGroup{Application: "app", Name: "b"}), ErrExists)
	must(t, "rename", s.UpdateDeploymentGroup(ctx, "Fleet", &DeploymentGroup{Application: "app", Name: "Fleet2", ConfigName: "custom", Info: []byte(`{"v":3}`)}))
	_, err = s.GetDeploymentGroup(ctx, "app", "Fleet")
	wantErr(t, "GetDeploymentGroup old name", err, ErrNotFound)
	got, err = s.GetDeploymentGroupByID(ctx, "id-1")
	must(t, "GetDeploymentGroupByID renamed", err)
	if got.Name != "Fleet2" || string(got.Info) != `{"v":3}` {
		t.Errorf("renamed group = %+v", got)
	}

	must(t, "DeleteDeploymentGroup", s.DeleteDeploymentGroup(ctx, "app", "Fleet2"))
	gs, err = s.ListDeploymentGroups(ctx, "app", Page{})
	wantKeys(t, "ListDeploymentGroups after delete", gs, err, groupName, "A", "b", "c")
	gs, err = s.ListDeploymentGroups(ctx, "other", Page{})
	wantKeys(t, "ListDeploymentGroups other app", gs, err, groupName, "Fleet")
}

func testOnPremisesInstances(t *testing.T, s Store) {
	ctx := t.Context()
	is, err := s.ListOnPremisesInstances(ctx, InstanceFilter{})
	wantKeys(t, "ListOnPremisesInstances empty", is, err, onPremName)
	_, err = s.GetOnPremisesInstance(ctx, "x")
	wantErr(t, "GetOnPremisesInstance missing", err, ErrNotFound)
	wantErr(t, "DeregisterOnPremisesInstance missing", s.DeregisterOnPremisesInstance(ctx, "x", time.Time{}), ErrNotFound)
	_, err = s.FindOnPremisesInstanceByIAMARN(ctx, "")
	wantErr(t, "FindOnPremisesInstanceByIAMARN empty", err, ErrNotFound)

	a := &OnPremisesInstance{Name: "AssetTag12010298EX", IAMUserARN: "arn:aws:iam::444455556666:user/CodeDeployUser-OnPrem",
		InstanceARN: "arn:aws:codedeploy:us-east-1:444455556666:instance/AssetTag12010298EX", Registered: at(0),
		Tags: []Tag{{"Name", "CodeDeployDemo-OnPrem"}, {"Env", "prod"}}}
	must(t, "RegisterOnPremisesInstance", s.RegisterOnPremisesInstance(ctx, a))
	b := &OnPremisesInstance{Name: "b", IAMSessionARN: "arn:aws:sts::444455556666:assumed-role/R/b"}
	must(t, "RegisterOnPremisesInstance b", s.RegisterOnPremisesInstance(ctx, b))
	if b.Registered.IsZero() || b.Registered.Location() != time.UTC {
		t.Errorf("zero Registered was set to %v", b.Registered)
	}
	wantErr(t, "RegisterOnPremisesInstance again", s.RegisterOnPremisesInstance(ctx, &OnPremisesInstance{Name: "b", IAMUserARN: "u"}), ErrExists)
	if err := s.RegisterOnPremisesInstance(ctx, &OnPremisesInstance{Name: "c", Deregistered: at(0)}); err == nil {
		t.Error("RegisterOnPremisesInstance with a deregistration time succeeded")
	}

	want := *a
	want.Tags = []Tag{{"Env", "prod"}, {"Name", "CodeDeployDemo-OnPrem"}} // by key
	got, err := s.GetOnPremisesInstance(ctx, a.Name)
	must(t, "GetOnPremisesInstance", err)
	wantEqual(t, "GetOnPremisesInstance", got, &want)
	got, err = s.FindOnPremisesInstanceByIAMARN(ctx, a.IAMUserARN)
	must(t, "FindOnPremisesInstanceByIAMARN user", err)
	wantEqual(t, "FindOnPremisesInstanceByIAMARN user", got, &want)
	got, err = s.FindOnPremisesInstanceByIAMARN(ctx, b.IAMSessionARN)
	must(t, "FindOnPremisesInstanceByIAMARN session", err)
	if got.Name != "b" || len(got.Tags) != 0 || got.Tags == nil {
		t.Errorf("FindOnPremisesInstanceByIAMARN session = %+v, want b with no tags", got)
	}

	must(t, "DeregisterOnPremisesInstance", s.DeregisterOnPremisesInstance(ctx, a.Name, at(time.Hour)))
	wantErr(t, "DeregisterOnPremisesInstance again", s.DeregisterOnPremisesInstance(ctx, a.Name, at(2*time.Hour)), ErrNotFound)
	got, err = s.GetOnPremisesInstance(ctx, a.Name)
	must(t, "GetOnPremisesInstance deregistered", err)
	if got.IsRegistered() || !got.Deregistered.Equal(at(time.Hour)) || len(got.Tags) != 2 {
		t.Errorf("deregistered instance = %+v, want deregistered at %v with its tags kept", got, at(time.Hour))
	}
	_, err = s.FindOnPremisesInstanceByIAMARN(ctx, a.IAMUserARN)
	wantErr(t, "FindOnPremisesInstanceByIAMARN deregistered", err, ErrNotFound)

	for _, n := range []string{"_c", "B"} {
		must(t, "RegisterOnPremisesInstance "+n, s.RegisterOnPremisesInstance(ctx, &OnPremisesInstance{Name: n, IAMUserARN: "arn:" + n}))
	}
	is, err = s.ListOnPremisesInstances(ctx, InstanceFilter{})
	wantKeys(t, "ListOnPremisesInstances all", is, err, onPremName, "AssetTag12010298EX", "B", "_c", "b")
	is, err = s.ListOnPremisesInstances(ctx, InstanceFilter{Status: InstanceRegistered})
	wantKeys(t, "ListOnPremisesInstances registered", is, err, onPremName, "B", "_c", "b")
	is, err = s.ListOnPremisesInstances(ctx, InstanceFilter{Status: InstanceDeregistered})
	wantKeys(t, "ListOnPremisesInstances deregistered", is, err, onPremName, "AssetTag12010298EX")
	if len(is) == 1 && len(is[0].Tags) != 2 {
		t.Errorf("listed instance tags = %v", is[0].Tags)
	}
	is, err = s.ListOnPremisesInstances(ctx, InstanceFilter{Status: InstanceRegistered, Page: Page{After: "B", Limit: 1}})
	wantKeys(t, "ListOnPremisesInstances page", is, err, onPremName, "_c")
	if _, err := s.ListOnPremisesInstances(ctx, InstanceFilter{Status: "Bogus"}); err == nil {
		t.Error("ListOnPremisesInstances with an unknown status succeeded")
	}
	is, err = s.BatchGetOnPremisesInstances(ctx, []string{"b", "nope", "AssetTag12010298EX", "b"})
	wantKeys(t, "BatchGetOnPremisesInstances", is, err, onPremName, "AssetTag12010298EX", "b")
	is, err = s.BatchGetOnPremisesInstances(ctx, nil)
	wantKeys(t, "BatchGetOnPremisesInstances none", is, err, onPremName)

	// A deregistered name can be registered again: a new instance, without
	// the old one's tags.
	again := &OnPremisesInstance{Name: a.Name, IAMSessionARN: "arn:aws:sts::444455556666:assumed-role/R/again", Registered: at(3 * time.Hour)}
	must(t, "RegisterOnPremisesInstance again after deregistration", s.RegisterOnPremisesInstance(ctx, again))
	got, err = s.GetOnPremisesInstance(ctx, a.Name)
	must(t, "GetOnPremisesInstance re-registered", err)
	wantEqual(t, "re-registered instance", got, &OnPremisesInstance{Name: a.Name, IAMSessionARN: again.IAMSessionARN,
		Registered: at(3 * time.Hour), Tags: []Tag{}})
}

func testOnPremisesInstanceTags(t *testing.T, s Store) {
	ctx := t.Context()
	wantErr(t, "PutOnPremisesInstanceTags missing", s.PutOnPremisesInstanceTags(ctx, "x", []Tag{{"k", "v"}}), ErrNotFound)
	wantErr(t, "RemoveOnPremisesInstanceTags missing", s.RemoveOnPremisesInstanceTags(ctx, "x", []Tag{{"k", "v"}}), ErrNotFound)
	must(t, "Register", s.RegisterOnPremisesInstance(ctx, &OnPremisesInstance{Name: "x", IAMUserARN: "u"}))
	must(t, "Register y", s.RegisterOnPremisesInstance(ctx, &OnPremisesInstance{Name: "y", IAMUserARN: "v", Tags: []Tag{{"k", "y"}}}))
	must(t, "PutOnPremisesInstanceTags", s.PutOnPremisesInstanceTags(ctx, "x", []Tag{{"b", "1"}, {"a", "2"}, {"c", "3"}}))
	must(t, "PutOnPremisesInstanceTags replace", s.PutOnPremisesInstanceTags(ctx, "x", []Tag{{"b", "one"}}))
	got, err := s.GetOnPremisesInstance(ctx, "x")
	must(t, "Get", err)
	wantEqual(t, "tags", got.Tags, []Tag{{"a", "2"}, {"b", "one"}, {"c", "3"}})

	// By key and value: a value that does not match leaves the tag.
	must(t, "RemoveOnPremisesInstanceTags", s.RemoveOnPremisesInstanceTags(ctx, "x", []Tag{{"a", "2"}, {"b", "1"}, {"c", ""}, {"zz", "q"}}))
	got, err = s.GetOnPremisesInstance(ctx, "x")
	must(t, "Get", err)
	wantEqual(t, "tags after remove", got.Tags, []Tag{{"b", "one"}})
	got, err = s.GetOnPremisesInstance(ctx, "y")
	must(t, "Get y", err)
	wantEqual(t, "other instance's tags", got.Tags, []Tag{{"k", "y"}})

	// Tags of a deregistered instance can still be changed by the store;
	// whether the API allows it is the service's business.
	must(t, "Deregister", s.DeregisterOnPremisesInstance(ctx, "y", time.Time{}))
	must(t, "PutOnPremisesInstanceTags deregistered", s.PutOnPremisesInstanceTags(ctx, "y", []Tag{{"k", "z"}}))
}

func testApplicationRevisions(t *testing.T, s Store) {
	ctx := t.Context()
	rs, err := s.ListApplicationRevisions(ctx, "app")
	wantKeys(t, "ListApplicationRevisions empty", rs, err, revisionKey)
	_, err = s.GetApplicationRevision(ctx, "app", "k")
	wantErr(t, "GetApplicationRevision missing", err, ErrNotFound)
	wantErr(t, "MarkApplicationRevisionUsed missing", s.MarkApplicationRevisionUsed(ctx, "app", "k", at(0)), ErrNotFound)

	r1 := &ApplicationRevision{Application: "app", Key: "S3|bucket|a.zip||", Type: "S3", Location: []byte(`{"revisionType":"S3"}`),
		Description: "first", S3Bucket: "bucket", S3Key: "a.zip", Registered: at(2 * time.Second)}
	must(t, "PutApplicationRevision", s.PutApplicationRevision(ctx, r1))
	got, err := s.GetApplicationRevision(ctx, "app", r1.Key)
	must(t, "GetApplicationRevision", err)
	wantEqual(t, "GetApplicationRevision", got, r1)

	r2 := &ApplicationRevision{Application: "app", Key: "GitHub|o/r|abc", Type: "GitHub", Location: []byte(`{"revisionType":"GitHub"}`), Registered: at(time.Second)}
	must(t, "PutApplicationRevision 2", s.PutApplicationRevision(ctx, r2))
	r3 := &ApplicationRevision{Application: "other", Key: r1.Key, Type: "S3", Location: []byte(`{}`), S3Bucket: "bucket", S3Key: "a.zip"}
	must(t, "PutApplicationRevision other app", s.PutApplicationRevision(ctx, r3))
	rs, err = s.ListApplicationRevisions(ctx, "app")
	wantKeys(t, "ListApplicationRevisions by registration time", rs, err, revisionKey, r2.Key, r1.Key)

	// Used: the first use is set once, the last use every time.
	must(t, "MarkApplicationRevisionUsed", s.MarkApplicationRevisionUsed(ctx, "app", r1.Key, at(time.Minute)))
	must(t, "MarkApplicationRevisionUsed again", s.MarkApplicationRevisionUsed(ctx, "app", r1.Key, at(time.Hour)))

	// Registering again replaces location and description, keeps times.
	again := &ApplicationRevision{Application: "app", Key: r1.Key, Type: "S3", Location: []byte(`{"revisionType":"S3","x":1}`),
		Description: "second", S3Bucket: "bucket", S3Key: "a.zip", Registered: at(time.Hour * 5)}
	must(t, "PutApplicationRevision again", s.PutApplicationRevision(ctx, again))
	want := &ApplicationRevision{Application: "app", Key: r1.Key, Type: "S3", Location: again.Location, Description: "second",
		S3Bucket: "bucket", S3Key: "a.zip", Registered: at(2 * time.Second), FirstUsed: at(time.Minute), LastUsed: at(time.Hour)}
	wantEqual(t, "written back", again, want)
	got, err = s.GetApplicationRevision(ctx, "app", r1.Key)
	must(t, "GetApplicationRevision again", err)
	wantEqual(t, "re-registered revision", got, want)
	got, err = s.GetApplicationRevision(ctx, "other", r1.Key)
	must(t, "GetApplicationRevision other app", err)
	if !got.FirstUsed.IsZero() || got.Description != "" {
		t.Errorf("the other application's revision changed: %+v", got)
	}
}

// testDeployInTx checks that misses and conflicts inside a transaction
// leave it usable (PostgreSQL aborts a transaction on any failed
// statement) and that a rollback undoes the cascade.
func testDeployInTx(t *testing.T, s Store) {
	ctx := t.Context()
	must(t, "CreateApplication", s.CreateApplication(ctx, &Application{Name: "a", ID: "1", ComputePlatform: "Server"}))
	must(t, "CreateApplication b", s.CreateApplication(ctx, &Application{Name: "b", ID: "2", ComputePlatform: "Server"}))
	must(t, "CreateDeploymentGroup", s.CreateDeploymentGroup(ctx, &DeploymentGroup{Application: "a", Name: "g", ID: "g1", ConfigName: "c"}))
	must(t, "Register", s.RegisterOnPremisesInstance(ctx, &OnPremisesInstance{Name: "i", IAMUserARN: "u"}))
	errRollback := errors.New("roll back")
	err := s.InTx(ctx, func(q Queries) error {
		if err := q.CreateApplication(ctx, &Application{Name: "a", ID: "3"}); !errors.Is(err, ErrExists) {
			t.Errorf("CreateApplication taken in tx: %v, want ErrExists", err)
		}
		if err := q.RenameApplication(ctx, "a", "b"); !errors.Is(err, ErrExists) {
			t.Errorf("RenameApplication to a taken name in tx: %v, want ErrExists", err)
		}
		if err := q.CreateDeploymentGroup(ctx, &DeploymentGroup{Application: "a", Name: "g", ID: "g2"}); !errors.Is(err, ErrExists) {
			t.Errorf("CreateDeploymentGroup taken in tx: %v, want ErrExists", err)
		}
		if err := q.RegisterOnPremisesInstance(ctx, &OnPremisesInstance{Name: "i", IAMUserARN: "v"}); !errors.Is(err, ErrExists) {
			t.Errorf("RegisterOnPremisesInstance taken in tx: %v, want ErrExists", err)
		}
		if _, err := q.GetDeploymentConfig(ctx, "none"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetDeploymentConfig missing in tx: %v, want ErrNotFound", err)
		}
		if err := q.DeleteApplication(ctx, "none"); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteApplication missing in tx: %v, want ErrNotFound", err)
		}
		must(t, "RenameApplication in tx", q.RenameApplication(ctx, "a", "c"))
		gs, err := q.ListDeploymentGroups(ctx, "c", Page{})
		wantKeys(t, "groups in tx", gs, err, applicationOf, "c/g")
		must(t, "DeleteApplication in tx", q.DeleteApplication(ctx, "c"))
		must(t, "PutOnPremisesInstanceTags in tx", q.PutOnPremisesInstanceTags(ctx, "i", []Tag{{"k", "v"}}))
		return errRollback
	})
	wantErr(t, "InTx", err, errRollback)
	gs, err := s.ListDeploymentGroups(ctx, "a", Page{})
	wantKeys(t, "groups after rollback", gs, err, applicationOf, "a/g")
	got, err := s.GetOnPremisesInstance(ctx, "i")
	must(t, "GetOnPremisesInstance after rollback", err)
	if len(got.Tags) != 0 {
		t.Errorf("tags after rollback = %v", got.Tags)
	}
}
