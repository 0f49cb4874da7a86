package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/auth"
)

// postgresTestDB creates an empty PostgreSQL database on the server
// SLIPWAY_TEST_POSTGRES_DSN names (a role with CREATEDB), dropped when t
// ends, and returns its DSN. Without the variable it fails t under CI=true
// and skips it otherwise.
func postgresTestDB(t *testing.T) string {
	t.Helper()
	const env = "SLIPWAY_TEST_POSTGRES_DSN"
	admin := os.Getenv(env)
	switch {
	case admin == "" && os.Getenv("CI") == "true":
		t.Fatalf("%s is not set and CI=true: CI must run the tests of servers on one PostgreSQL database (.ci/run's PostgreSQL step sets it)", env)
	case admin == "":
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://slipway:slipway@127.0.0.1:5432/slipway?sslmode=disable (a role with CREATEDB)", env)
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", env)
	}
	suffix := make([]byte, 8)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	name := "slipway_test_" + hex.EncodeToString(suffix)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for range 20 {
			if _, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err == nil {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Errorf("drop database %s: %v", name, err)
	})
	u.Path = "/" + name
	return u.String()
}

// cluster is two slipway server processes, A and B, on one PostgreSQL
// database, with their own data dirs, one master key and one shared dir.
type cluster struct {
	t                 *testing.T
	root, dsn, shared string
	bin               string
	a, b              *serverProc
	flags             []string // the flags both servers run with
	credDir           string   // the data dir holding the admin credentials
	keyID, secret     string
}

// newCluster starts A and B at the same time on a new database.
func newCluster(t *testing.T, extra ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, root: t.TempDir(), dsn: postgresTestDB(t), bin: buildBinary(t, "cmd/slipway")}
	c.shared = filepath.Join(c.root, "shared")
	c.a = &serverProc{t: t, bin: c.bin, dir: filepath.Join(c.root, "a"), addr: freeAddr(t), log: filepath.Join(c.root, "server-a.log")}
	c.b = &serverProc{t: t, bin: c.bin, dir: filepath.Join(c.root, "b"), addr: freeAddr(t), log: filepath.Join(c.root, "server-b.log")}
	// One master key for both, made before either starts.
	key, err := auth.LoadOrCreateMasterKey(filepath.Join(c.a.dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(c.b.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.b.dir, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	c.flags = append([]string{"--database", c.dsn, "--shared-dir", c.shared, "--workers", "0",
		"--s3-poll-interval", "-1s", "--source-poll-interval", "-1s"}, extra...)
	c.a.launch(c.flags...)
	c.b.launch(c.flags...)
	t.Cleanup(func() {
		for _, p := range []*serverProc{c.a, c.b} {
			if p.cmd != nil && p.cmd.ProcessState == nil {
				p.kill()
			}
		}
	})
	c.a.waitHealthy()
	c.b.waitHealthy()
	// Whichever server found no access key made the admin key and wrote
	// the credentials file; both may have.
	for _, dir := range []string{c.a.dir, c.b.dir} {
		if id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(dir, "credentials"), "default"); err == nil {
			c.credDir, c.keyID, c.secret = dir, id, secret
			break
		}
	}
	if c.credDir == "" {
		t.Fatalf("neither server wrote a credentials file; logs in %s", c.root)
	}
	return c
}

func (c *cluster) url(p *serverProc) string { return "http://" + p.addr }

func (c *cluster) pipelines(p *serverProc) *codepipeline.Client {
	return codepipeline.New(codepipeline.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.url(p)),
		Credentials: staticCreds(c.keyID, c.secret), RetryMaxAttempts: 5})
}

func (c *cluster) deployments(p *serverProc) *codedeploy.Client {
	return codedeploy.New(codedeploy.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.url(p)),
		Credentials: staticCreds(c.keyID, c.secret), RetryMaxAttempts: 5})
}

// logs returns the servers' logs, for failure messages.
func (c *cluster) logs() string {
	var b strings.Builder
	for _, name := range []string{"server-a.log", "server-b.log", "worker.log"} {
		data, _ := os.ReadFile(filepath.Join(c.root, name))
		fmt.Fprintf(&b, "--- %s\n%s\n", name, data)
	}
	return b.String()
}

func serverID(t *testing.T, dataDir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "server-id"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// journalPipeline is an S3 source and a Build stage of two Commands
// actions that each append "<execution id> <action>" to journal.
func journalPipeline(name, journal string) *types.PipelineDeclaration {
	cmd := func(action string, order int32) types.ActionDeclaration {
		a := awsAction(action, types.ActionCategoryCompute, "Commands", nil, []string{"App"}, nil)
		a.Commands = []string{fmt.Sprintf(`echo "#{codepipeline.PipelineExecutionId} %s" >> '%s'`, action, journal)}
		a.RunOrder = aws.Int32(order)
		return a
	}
	d := s3Pipeline(name, "multi-source", "app.zip", "Build", cmd("First", 1), cmd("Second", 2))
	d.Stages[0].Actions[0].Configuration["PollForSourceChanges"] = "false"
	d.PipelineType, d.ExecutionMode = types.PipelineTypeV2, types.ExecutionModeParallel
	return d
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Two servers on one PostgreSQL database start together (the migrations
// run once), share one directory and run 50 executions, started through
// both, on one remote worker attached to B while A is killed and
// restarted: every execution succeeds, every action runs once, and both
// servers answer the same. A third server whose shared dir is elsewhere
// refuses to start.
func TestMultiServerExecutions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers and a worker on PostgreSQL")
	}
	t.Parallel()
	c := newCluster(t)
	ctx := context.Background()

	// The migrations ran once, and both servers registered.
	db, err := sql.Open("pgx", c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files, err := filepath.Glob(filepath.Join("..", "store", "migrations", "postgres", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v %v", files, err)
	}
	var rows, distinct int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != len(files) || distinct != len(files) {
		t.Errorf("schema_migrations has %d rows (%d versions), want one per migration file (%d)", rows, distinct, len(files))
	}
	idA, idB := serverID(t, c.a.dir), serverID(t, c.b.dir)
	registered := func() []string {
		t.Helper()
		r, err := db.QueryContext(ctx, `SELECT id, shared_dir FROM servers ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out []string
		for r.Next() {
			var id, dir string
			if err := r.Scan(&id, &dir); err != nil {
				t.Fatal(err)
			}
			out = append(out, id+" "+dir)
		}
		return out
	}
	want := []string{idA + " " + c.shared, idB + " " + c.shared}
	slices.Sort(want)
	if got := registered(); !slices.Equal(got, want) {
		t.Errorf("registered servers %q, want %q", got, want)
	}

	// The source object, in the shared filesystem artifact store.
	arts, err := artifact.NewFSStore(filepath.Join(c.shared, artifact.FSDirName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := arts.Put(ctx, "multi-source", "app.zip", bytes.NewReader(zipOf(t, map[string]string{"README": "multi\n"}))); err != nil {
		t.Fatal(err)
	}

	// One remote worker, attached to B.
	wlog, err := os.Create(filepath.Join(c.root, "worker.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer wlog.Close()
	w := exec.Command(c.bin, "worker", "--endpoint", c.url(c.b), "--concurrency", "4", "--poll", "100ms", "--heartbeat", "1s",
		"--work-dir", filepath.Join(c.root, "work"), "--artifact-dir", filepath.Join(c.shared, artifact.FSDirName))
	w.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+c.keyID, "AWS_SECRET_ACCESS_KEY="+c.secret, "AWS_REGION=us-east-1", "AWS_PROFILE=")
	w.Stdout, w.Stderr = wlog, wlog
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })

	// Five pipelines (each creation starts one execution) and 45 more
	// executions, through A and B in turn; A is killed half-way.
	journal := filepath.Join(c.root, "journal")
	clients := []*codepipeline.Client{c.pipelines(c.a), c.pipelines(c.b)}
	const pipelines, total = 5, 50
	for i := range pipelines {
		if _, err := clients[i%2].CreatePipeline(ctx, &codepipeline.CreatePipelineInput{
			Pipeline: journalPipeline(fmt.Sprintf("Multi%d", i), journal)}); err != nil {
			t.Fatalf("CreatePipeline: %v", err)
		}
	}
	for i := range total - pipelines {
		if i == (total-pipelines)/2 {
			c.a.kill()
			t.Logf("killed server A with %d actions journaled", len(readLines(t, journal)))
			c.a.start(c.flags...)
		}
		if _, err := clients[i%2].StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{
			Name: aws.String(fmt.Sprintf("Multi%d", i%pipelines))}); err != nil {
			t.Fatalf("StartPipelineExecution through %s: %v", []string{"A", "B"}[i%2], err)
		}
	}

	// Every execution succeeds.
	var states map[types.PipelineExecutionStatus]int
	deadline := time.Now().Add(90 * time.Second)
	for {
		states = map[types.PipelineExecutionStatus]int{}
		for i := range pipelines {
			out, err := clients[1].ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{
				PipelineName: aws.String(fmt.Sprintf("Multi%d", i)), MaxResults: aws.Int32(100)})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range out.PipelineExecutionSummaries {
				states[s.Status]++
			}
		}
		if states[types.PipelineExecutionStatusSucceeded] == total || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if states[types.PipelineExecutionStatusSucceeded] != total {
		t.Fatalf("executions by status: %v; want all %d Succeeded\n%s", states, total, c.logs())
	}

	// Each action ran exactly once per execution.
	runs := map[string]int{}
	for _, l := range readLines(t, journal) {
		runs[l]++
	}
	executions := 0
	for i := range pipelines {
		out, err := clients[0].ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{
			PipelineName: aws.String(fmt.Sprintf("Multi%d", i)), MaxResults: aws.Int32(100)})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.PipelineExecutionSummaries {
			executions++
			for _, action := range []string{"First", "Second"} {
				line := aws.ToString(s.PipelineExecutionId) + " " + action
				if runs[line] != 1 {
					t.Errorf("action %s of execution %s ran %d times, want once", action, aws.ToString(s.PipelineExecutionId), runs[line])
				}
				delete(runs, line)
			}
		}
	}
	if executions != total || len(runs) != 0 {
		t.Errorf("%d executions listed (want %d); journal lines of no listed execution: %v", executions, total, runs)
	}

	// A and B answer the same.
	for i := range pipelines {
		name := aws.String(fmt.Sprintf("Multi%d", i))
		var lists, stages, arns [2]string
		for j, cl := range clients {
			p, err := cl.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			arns[j] = aws.ToString(p.Metadata.PipelineArn)
			l, err := cl.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: name, MaxResults: aws.Int32(100)})
			if err != nil {
				t.Fatal(err)
			}
			s, err := cl.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			lists[j], stages[j] = jsonOf(t, l.PipelineExecutionSummaries), jsonOf(t, s.StageStates)
		}
		if arns[0] != arns[1] {
			t.Errorf("%s: the servers disagree on the ARN (account ID): A %s, B %s", *name, arns[0], arns[1])
		}
		if lists[0] != lists[1] {
			t.Errorf("%s: ListPipelineExecutions differs:\nA %s\nB %s", *name, lists[0], lists[1])
		}
		if stages[0] != stages[1] {
			t.Errorf("%s: GetPipelineState differs:\nA %s\nB %s", *name, stages[0], stages[1])
		}
	}
	if got := registered(); !slices.Equal(got, want) {
		t.Errorf("registered servers after A's restart %q, want %q", got, want)
	}

	// A third server on the same database, whose shared dir is elsewhere,
	// refuses to start and says why.
	dirC, otherShared := filepath.Join(c.root, "c"), filepath.Join(c.root, "elsewhere")
	key, err := os.ReadFile(filepath.Join(c.a.dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dirC, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirC, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, c.bin, "server", "--listen", freeAddr(t), "--data-dir", dirC, "--database", c.dsn,
		"--shared-dir", otherShared, "--workers", "0").CombinedOutput()
	if err == nil || cctx.Err() != nil {
		t.Fatalf("a server with another shared dir: %v (context %v), want it to refuse to start\n%s", err, cctx.Err(), out)
	}
	for _, s := range []string{"refusing to start", idA, idB, c.shared, filepath.Join(otherShared, "servers", idA), "--shared-dir"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("the refusal does not name %q:\n%s", s, out)
		}
	}
	if got := registered(); !slices.Equal(got, want) {
		t.Errorf("registered servers after the refusal %q, want %q", got, want)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// One deployment to two instances whose agents poll different servers of
// one database: the bundle uploaded through A is downloaded through B,
// and both instances succeed.
func TestMultiServerDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers and two agents on PostgreSQL")
	}
	t.Parallel()
	c := newCluster(t)
	ctx := context.Background()
	agentBin := buildBinary(t, "cmd/slipway-agent")
	slipway := func(endpoint string, args ...string) string {
		t.Helper()
		cmd := exec.Command(c.bin, args...)
		cmd.Env = append(os.Environ(), "SLIPWAY_ENDPOINT="+endpoint)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("slipway %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	var agents []*realAgent
	t.Cleanup(func() {
		for _, a := range agents {
			_ = a.cmd.Process.Signal(syscall.SIGKILL)
			<-a.done
		}
	})
	for i, srv := range []*serverProc{c.a, c.b} {
		n := string(rune('a' + i))
		a := &realAgent{name: "node-" + n, config: filepath.Join(c.root, "agent-"+n+".yml"), root: filepath.Join(c.root, "agent-"+n, "root"),
			install: filepath.Join(c.root, "agent-"+n, "install"), log: filepath.Join(c.root, "agent-"+n+".log")}
		if err := os.MkdirAll(a.install, 0o755); err != nil {
			t.Fatal(err)
		}
		slipway(c.url(srv), "instance", "register", a.name, "--data-dir", c.credDir, "--tag", "fleet=multi", "--out", a.config,
			"--root-dir", a.root, "--log-dir", filepath.Join(c.root, "agent-"+n, "log"))
		a.cmd = exec.Command(agentBin, "--config", a.config, "--install-root", a.install)
		logf, err := os.Create(a.log)
		if err != nil {
			t.Fatal(err)
		}
		a.cmd.Stdout, a.cmd.Stderr = logf, logf
		if err := a.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		a.done = done
		go func() { _ = a.cmd.Wait(); logf.Close(); close(done) }()
		agents = append(agents, a)
	}

	cdA, cdB := c.deployments(c.a), c.deployments(c.b)
	mustDo[*codedeploy.CreateApplicationOutput](t, "app")(cdA.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("shop")}))
	mustDo[*codedeploy.CreateDeploymentGroupOutput](t, "group")(cdB.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("fleet"), ServiceRoleArn: aws.String(deployRole),
		DeploymentConfigName: aws.String("CodeDeployDefault.AllAtOnce"), OnPremisesInstanceTagFilters: []cdtypes.TagFilter{kvFilter("fleet", "multi")}}))
	out := slipway(c.url(c.a), "deploy", "push", "--data-dir", c.credDir, "--application", "shop", "--source", writeTree(t, appFiles("v1", nil)),
		"--s3-location", "shop-bundles/shop-v1.zip", "-o", "json")
	var pushed struct {
		S3Location struct{ Bucket, Key, ETag string }
	}
	if err := json.Unmarshal([]byte(out), &pushed); err != nil {
		t.Fatalf("deploy push -o json: %v\n%s", err, out)
	}
	rev := &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: &cdtypes.S3Location{
		Bucket: aws.String(pushed.S3Location.Bucket), Key: aws.String(pushed.S3Location.Key), BundleType: cdtypes.BundleTypeZip,
		ETag: aws.String(pushed.S3Location.ETag)}}
	dep := mustDo[*codedeploy.CreateDeploymentOutput](t, "deployment")(cdB.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{
		ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("fleet"), Revision: rev}))
	id := aws.ToString(dep.DeploymentId)

	var info *cdtypes.DeploymentInfo
	deadline := time.Now().Add(100 * time.Second)
	for {
		got := mustDo[*codedeploy.GetDeploymentOutput](t, "get")(cdA.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)}))
		info = got.DeploymentInfo
		if s := info.Status; s == cdtypes.DeploymentStatusSucceeded || s == cdtypes.DeploymentStatusFailed || s == cdtypes.DeploymentStatusStopped ||
			time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if info.Status != cdtypes.DeploymentStatusSucceeded {
		var b strings.Builder
		for _, a := range agents {
			data, _ := os.ReadFile(a.log)
			fmt.Fprintf(&b, "--- %s\n%s\n", a.log, data)
		}
		t.Fatalf("deployment %s: %s %+v\n%s%s", id, info.Status, info.ErrorInformation, c.logs(), b.String())
	}
	if o := info.DeploymentOverview; o == nil || o.Succeeded != 2 {
		t.Errorf("deployment overview %+v, want 2 instances Succeeded", o)
	}
	for _, a := range agents {
		for j, cd := range []*codedeploy.Client{cdA, cdB} {
			s := mustDo[*codedeploy.GetDeploymentInstanceOutput](t, "instance")(cd.GetDeploymentInstance(ctx, &codedeploy.GetDeploymentInstanceInput{
				DeploymentId: aws.String(id), InstanceId: aws.String(a.name)}))
			if s.InstanceSummary.Status != cdtypes.InstanceStatusSucceeded {
				t.Errorf("%s through %s: status %s", a.name, []string{"A", "B"}[j], s.InstanceSummary.Status)
			}
		}
		if got := readFile(t, filepath.Join(a.install, "opt", "app", "index.html")); got != "v1" {
			t.Errorf("%s: index.html = %q, want v1", a.name, got)
		}
		if hooks := readFile(t, filepath.Join(a.install, "hooks.log")); !strings.Contains(hooks, "ApplicationStart\n") {
			t.Errorf("%s: hooks ran %q, want ApplicationStart among them", a.name, hooks)
		}
	}
}
