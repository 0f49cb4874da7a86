package store

import (
	"testing"
	"time"
)

// The DeploymentQueries part of the conformance suite, on both databases.
func exerciseDeployments(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, Store)
	}{
		{"Deployments", testDeployments},
		{"DeploymentTargets", testDeploymentTargets},
		{"HostCommands", testHostCommands},
		{"GroupInstances", testGroupInstances},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
}

func TestSQLiteDeployments(t *testing.T) {
	t.Parallel()
	exerciseDeployments(t, openSQLiteTemp)
}

func TestPostgresDeployments(t *testing.T) {
	t.Parallel()
	postgresAdminDSN(t)
	exerciseDeployments(t, openPostgresTemp)
}

func deploymentID(d *Deployment) string { return d.ID }

func testDeployments(t *testing.T, s Store) {
	ctx := t.Context()
	ds, err := s.ListDeployments(ctx, DeploymentFilter{})
	wantKeys(t, "ListDeployments empty", ds, err, deploymentID)
	_, err = s.GetDeployment(ctx, "d-1")
	wantErr(t, "GetDeployment missing", err, ErrNotFound)
	wantErr(t, "UpdateDeployment missing", s.UpdateDeployment(ctx, &Deployment{ID: "d-1"}), ErrNotFound)

	t0 := time.UnixMilli(1_700_000_000_000).UTC()
	d1 := &Deployment{ID: "d-1", Application: "a", GroupName: "g", GroupID: "gid", Status: "Created", Active: true, Created: t0, Detail: []byte(`{"x":1}`)}
	must(t, "CreateDeployment d-1", s.CreateDeployment(ctx, d1))
	wantErr(t, "CreateDeployment again", s.CreateDeployment(ctx, d1), ErrExists)
	must(t, "CreateDeployment d-2", s.CreateDeployment(ctx, &Deployment{ID: "d-2", Application: "a", GroupName: "h", GroupID: "hid",
		Status: "Succeeded", Created: t0.Add(time.Minute)}))
	must(t, "CreateDeployment d-3", s.CreateDeployment(ctx, &Deployment{ID: "d-3", Application: "b", GroupName: "g", GroupID: "bid",
		Status: "Failed", Created: t0.Add(2 * time.Minute)}))

	got, err := s.GetDeployment(ctx, "d-1")
	must(t, "GetDeployment", err)
	if got.Status != "Created" || !got.Active || !got.Created.Equal(t0) || string(got.Detail) != `{"x":1}` || got.GroupID != "gid" {
		t.Fatalf("GetDeployment = %+v", got)
	}
	got.Status, got.Active, got.Detail = "Succeeded", false, []byte(`{"x":2}`)
	must(t, "UpdateDeployment", s.UpdateDeployment(ctx, got))
	got, err = s.GetDeployment(ctx, "d-1")
	must(t, "GetDeployment after update", err)
	if got.Status != "Succeeded" || got.Active || string(got.Detail) != `{"x":2}` {
		t.Fatalf("after update = %+v", got)
	}
	must(t, "UpdateDeployment active", s.UpdateDeployment(ctx, &Deployment{ID: "d-2", Status: "InProgress", Active: true}))

	for _, tc := range []struct {
		name string
		f    DeploymentFilter
		want []string
	}{
		{"all", DeploymentFilter{}, []string{"d-1", "d-2", "d-3"}},
		{"application", DeploymentFilter{Application: "a"}, []string{"d-1", "d-2"}},
		{"group", DeploymentFilter{Application: "a", GroupName: "g"}, []string{"d-1"}},
		{"statuses", DeploymentFilter{Statuses: []string{"Failed", "InProgress"}}, []string{"d-2", "d-3"}},
		{"active", DeploymentFilter{ActiveOnly: true}, []string{"d-2"}},
		{"after", DeploymentFilter{CreatedAfter: t0.Add(time.Minute)}, []string{"d-2", "d-3"}},
		{"before", DeploymentFilter{CreatedBefore: t0.Add(time.Minute)}, []string{"d-1", "d-2"}},
	} {
		ds, err := s.ListDeployments(ctx, tc.f)
		wantKeys(t, "ListDeployments "+tc.name, ds, err, deploymentID, tc.want...)
	}
}

func targetInstance(x *DeploymentTarget) string { return x.Instance }

func testDeploymentTargets(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.GetDeploymentTarget(ctx, "d-1", "i")
	wantErr(t, "GetDeploymentTarget missing", err, ErrNotFound)
	ts, err := s.ListDeploymentTargets(ctx, "d-1")
	wantKeys(t, "ListDeploymentTargets empty", ts, err, targetInstance)
	for _, n := range []string{"web-2", "web-1"} {
		must(t, "PutDeploymentTarget", s.PutDeploymentTarget(ctx, &DeploymentTarget{DeploymentID: "d-1", Instance: n, Status: "Pending", Detail: []byte(`{}`)}))
	}
	must(t, "PutDeploymentTarget other", s.PutDeploymentTarget(ctx, &DeploymentTarget{DeploymentID: "d-2", Instance: "web-1", Status: "Pending"}))
	must(t, "PutDeploymentTarget replace", s.PutDeploymentTarget(ctx, &DeploymentTarget{DeploymentID: "d-1", Instance: "web-1", Status: "Succeeded", Detail: []byte(`{"a":1}`)}))
	ts, err = s.ListDeploymentTargets(ctx, "d-1")
	wantKeys(t, "ListDeploymentTargets", ts, err, targetInstance, "web-1", "web-2")
	got, err := s.GetDeploymentTarget(ctx, "d-1", "web-1")
	must(t, "GetDeploymentTarget", err)
	if got.Status != "Succeeded" || string(got.Detail) != `{"a":1}` {
		t.Fatalf("GetDeploymentTarget = %+v", got)
	}
}

func commandID(c *HostCommand) string { return c.ID }

func testHostCommands(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.GetHostCommand(ctx, "c1")
	wantErr(t, "GetHostCommand missing", err, ErrNotFound)
	wantErr(t, "UpdateHostCommand missing", s.UpdateHostCommand(ctx, &HostCommand{ID: "c1"}), ErrNotFound)
	t0 := time.UnixMilli(1_700_000_000_000).UTC()
	c1 := &HostCommand{ID: "c1", DeploymentID: "d-1", Instance: "web-1", Name: "DownloadBundle", Status: "Pending", Created: t0}
	must(t, "CreateHostCommand", s.CreateHostCommand(ctx, c1))
	wantErr(t, "CreateHostCommand again", s.CreateHostCommand(ctx, c1), ErrExists)
	must(t, "CreateHostCommand c2", s.CreateHostCommand(ctx, &HostCommand{ID: "c2", DeploymentID: "d-1", Instance: "web-2", Name: "DownloadBundle", Status: "Pending", Created: t0.Add(time.Second)}))
	must(t, "CreateHostCommand c3", s.CreateHostCommand(ctx, &HostCommand{ID: "c3", DeploymentID: "d-2", Instance: "web-1", Name: "Install", Status: "Succeeded", Created: t0.Add(2 * time.Second)}))
	c1.Status, c1.Nonce, c1.Updated = "InProgress", 42, time.Time{}
	must(t, "UpdateHostCommand", s.UpdateHostCommand(ctx, c1))
	got, err := s.GetHostCommand(ctx, "c1")
	must(t, "GetHostCommand", err)
	if got.Status != "InProgress" || got.Nonce != 42 || got.Name != "DownloadBundle" || !got.Created.Equal(t0) {
		t.Fatalf("GetHostCommand = %+v", got)
	}
	for _, tc := range []struct {
		name string
		f    HostCommandFilter
		want []string
	}{
		{"all", HostCommandFilter{}, []string{"c1", "c2", "c3"}},
		{"instance", HostCommandFilter{Instance: "web-1"}, []string{"c1", "c3"}},
		{"deployment", HostCommandFilter{DeploymentID: "d-1"}, []string{"c1", "c2"}},
		{"open", HostCommandFilter{Instance: "web-1", Statuses: []string{"Pending", "InProgress"}}, []string{"c1"}},
	} {
		cs, err := s.ListHostCommands(ctx, tc.f)
		wantKeys(t, "ListHostCommands "+tc.name, cs, err, commandID, tc.want...)
	}
}

func groupInstanceName(g *GroupInstance) string { return g.Instance }

func testGroupInstances(t *testing.T, s Store) {
	ctx := t.Context()
	gs, err := s.ListGroupInstances(ctx, "g")
	wantKeys(t, "ListGroupInstances empty", gs, err, groupInstanceName)
	must(t, "PutGroupInstance", s.PutGroupInstance(ctx, &GroupInstance{GroupID: "g", Instance: "b", Detail: []byte(`{}`)}))
	must(t, "PutGroupInstance", s.PutGroupInstance(ctx, &GroupInstance{GroupID: "g", Instance: "a", Detail: []byte(`{}`)}))
	must(t, "PutGroupInstance other", s.PutGroupInstance(ctx, &GroupInstance{GroupID: "h", Instance: "a"}))
	must(t, "PutGroupInstance replace", s.PutGroupInstance(ctx, &GroupInstance{GroupID: "g", Instance: "a", Detail: []byte(`{"h":1}`)}))
	gs, err = s.ListGroupInstances(ctx, "g")
	wantKeys(t, "ListGroupInstances", gs, err, groupInstanceName, "a", "b")
	if string(gs[0].Detail) != `{"h":1}` {
		t.Fatalf("detail %s", gs[0].Detail)
	}
}
