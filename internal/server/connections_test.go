package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/gitsource"
	"github.com/slipway-cd/slipway/internal/server"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// connGit runs the git binary in dir as a developer would.
func connGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// externalRepo is a bare repository outside Slipway and a work tree that
// pushes to it.
type externalRepo struct {
	t      *testing.T
	bare   string
	work   string
	commit int
}

func newExternalRepo(t *testing.T) *externalRepo {
	t.Helper()
	dir := t.TempDir()
	r := &externalRepo{t: t, bare: filepath.Join(dir, "app.git"), work: filepath.Join(dir, "work")}
	connGit(t, dir, "init", "--quiet", "--bare", "--initial-branch=main", r.bare)
	connGit(t, dir, "init", "--quiet", "--initial-branch=main", r.work)
	connGit(t, r.work, "remote", "add", "origin", r.bare)
	return r
}

// push commits a change and pushes it to branch; it returns the commit.
func (r *externalRepo) push(branch, message string) string {
	r.t.Helper()
	r.commit++
	if err := os.WriteFile(filepath.Join(r.work, "version.txt"), []byte(message+"\n"), 0o644); err != nil {
		r.t.Fatal(err)
	}
	connGit(r.t, r.work, "add", "version.txt")
	connGit(r.t, r.work, "commit", "--quiet", "-m", message)
	connGit(r.t, r.work, "push", "--quiet", "origin", "HEAD:refs/heads/"+branch)
	return connGit(r.t, r.work, "rev-parse", "HEAD")
}

// lsRemotes is a gitsource.Runner that records when each remote was
// listed.
type lsRemotes struct {
	mu    sync.Mutex
	times map[string][]time.Time
}

func (l *lsRemotes) Run(ctx context.Context, c *gitsource.Command) ([]byte, error) {
	if slices.Contains(c.Args, "ls-remote") {
		l.mu.Lock()
		if l.times == nil {
			l.times = map[string][]time.Time{}
		}
		url := c.Args[len(c.Args)-1]
		l.times[url] = append(l.times[url], time.Now())
		l.mu.Unlock()
	}
	return gitsource.ExecRunner{}.Run(ctx, c)
}

func (l *lsRemotes) list(url string) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.times[url])
}

// connectionPipeline is Source (CodeStarSourceConnection, namespace
// SourceVariables) -> Approve (manual approval, which holds it).
func connectionPipeline(name, connectionARN string, config map[string]string) *types.PipelineDeclaration {
	cfg := map[string]string{"ConnectionArn": connectionARN, "FullRepositoryId": "team/app", "BranchName": "main"}
	for k, v := range config {
		cfg[k] = v
	}
	return &types.PipelineDeclaration{
		Name:          aws.String(name),
		RoleArn:       aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("slipway-artifacts")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{{
				Name:            aws.String("Source"),
				ActionTypeId:    &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerAws, Provider: aws.String("CodeStarSourceConnection"), Version: aws.String("1")},
				OutputArtifacts: []types.OutputArtifact{{Name: aws.String("SourceOut")}},
				Configuration:   cfg,
				Namespace:       aws.String("SourceVariables"),
				RunOrder:        aws.Int32(1),
			}}},
			{Name: aws.String("Release"), Actions: []types.ActionDeclaration{approvalAction("Approve", nil)}},
		},
	}
}

// executions lists a pipeline's executions, newest first.
func executions(t *testing.T, c *codepipeline.Client, name string) []types.PipelineExecutionSummary {
	t.Helper()
	out, err := c.ListPipelineExecutions(context.Background(), &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name)})
	if err != nil {
		t.Fatalf("ListPipelineExecutions: %v", err)
	}
	return out.PipelineExecutionSummaries
}

// waitSourceCommit waits for an execution of the pipeline whose Source
// action succeeded with the output variable CommitId = commit and returns
// the execution's summary.
func waitSourceCommit(t *testing.T, c *codepipeline.Client, name, commit string) types.PipelineExecutionSummary {
	t.Helper()
	var found types.PipelineExecutionSummary
	eventually(t, name+" source at "+commit, func() (bool, string) {
		var seen []string
		for _, x := range executions(t, c, name) {
			d, ok := actionExecutions(t, c, name, aws.ToString(x.PipelineExecutionId))["Source"]
			if !ok || d.Output == nil {
				continue
			}
			got := d.Output.OutputVariables["CommitId"]
			seen = append(seen, string(d.Status)+":"+got)
			if d.Status == types.ActionExecutionStatusSucceeded && got == commit {
				found = x
				return true, ""
			}
		}
		return false, strings.Join(seen, ", ")
	})
	// Read the summary again: it shows the revisions the source reported.
	for _, x := range executions(t, c, name) {
		if aws.ToString(x.PipelineExecutionId) == aws.ToString(found.PipelineExecutionId) {
			return x
		}
	}
	return found
}

// TestConnectionPolling: a pipeline on a connection to a local bare
// repository starts when a commit is pushed to that repository, found by
// polling, pinned to the commit; the source action reports it (output
// variables, currentRevision); two pipelines on the same remote cost one
// ls-remote per interval.
func TestConnectionPolling(t *testing.T) {
	t.Parallel()
	const interval = 100 * time.Millisecond
	lsr := &lsRemotes{}
	b := start(t, "", func(c *server.Config) {
		fastEngine(c)
		c.SourcePoll = interval
		c.GitRunner = lsr
	})
	ctx := context.Background()
	ext := extClient(t, b)
	repo := newExternalRepo(t)
	first := repo.push("main", "first")
	conn, err := ext.CreateConnection(ctx, &slipwayapi.CreateConnectionInput{ConnectionName: "local", RemoteURL: repo.bare})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	for _, name := range []string{"Polled", "AlsoPolled"} {
		if _, err := b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: connectionPipeline(name, conn.ConnectionArn, nil)}); err != nil {
			t.Fatalf("CreatePipeline: %v", err)
		}
	}
	// A pipeline that opts out of change detection.
	if _, err := b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{
		Pipeline: connectionPipeline("NotPolled", conn.ConnectionArn, map[string]string{"DetectChanges": "false"})}); err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	waitSourceCommit(t, b.client, "Polled", first)
	waitSourceCommit(t, b.client, "NotPolled", first)
	// Let the poller record the remote (its first listing starts nothing).
	n := len(lsr.list(repo.bare))
	eventually(t, "two polls", func() (bool, string) { return len(lsr.list(repo.bare)) >= n+2, "" })
	if got := len(executions(t, b.client, "Polled")); got != 1 {
		t.Fatalf("Polled has %d executions before any push, want 1 (the first listing must start nothing)", got)
	}

	second := repo.push("main", "second")
	for _, name := range []string{"Polled", "AlsoPolled"} {
		x := waitSourceCommit(t, b.client, name, second)
		if x.Trigger == nil || x.Trigger.TriggerType != types.TriggerTypePollForSourceChanges || aws.ToString(x.Trigger.TriggerDetail) != conn.ConnectionArn {
			t.Errorf("%s: trigger = %+v, want PollForSourceChanges by the connection", name, x.Trigger)
		}
		if len(x.SourceRevisions) != 1 || aws.ToString(x.SourceRevisions[0].RevisionId) != second {
			t.Errorf("%s: source revisions = %+v, want %s", name, x.SourceRevisions, second)
		}
		d := actionExecutions(t, b.client, name, aws.ToString(x.PipelineExecutionId))["Source"]
		v := d.Output.OutputVariables
		if v["BranchName"] != "main" || v["FullRepositoryName"] != "team/app" || v["ConnectionArn"] != conn.ConnectionArn ||
			v["CommitMessage"] != "second" || v["AuthorDate"] == "" {
			t.Errorf("%s: output variables = %v", name, v)
		}
	}
	eventually(t, "currentRevision", func() (bool, string) {
		a := actionState(pipelineState(t, b.client, "Polled"), "Source", "Source")
		if a == nil || a.CurrentRevision == nil {
			return false, "none"
		}
		return aws.ToString(a.CurrentRevision.RevisionId) == second, aws.ToString(a.CurrentRevision.RevisionId)
	})
	if got := len(executions(t, b.client, "Polled")); got != 2 {
		t.Errorf("Polled has %d executions after one push, want 2", got)
	}
	if got := len(executions(t, b.client, "NotPolled")); got != 1 {
		t.Errorf("NotPolled (DetectChanges false) has %d executions, want 1", got)
	}

	// One listing of the remote per interval, however many pipelines
	// watch it.
	times := lsr.list(repo.bare)
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < interval*9/10 {
			t.Fatalf("the remote was listed twice within %v (listings %d and %d); want one listing per interval", gap, i-1, i)
		}
	}
}

// TestConnectionsAPI: create, read, list and delete connections; the
// password is sealed and never shown; bad remotes are refused.
func TestConnectionsAPI(t *testing.T) {
	t.Parallel()
	b := start(t, "", nil)
	ctx := context.Background()
	ext := extClient(t, b)
	const secret = "ghp_Sup3rS3cretT0ken"
	out, err := ext.CreateConnection(ctx, &slipwayapi.CreateConnectionInput{ConnectionName: "github",
		RemoteURL: "https://github.com/{FullRepositoryId}.git", Username: "x-access-token", Password: secret})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	if !strings.HasPrefix(out.ConnectionArn, "arn:aws:codeconnections:us-east-1:"+b.srv.AccountID()+":connection/") {
		t.Errorf("connection ARN = %q", out.ConnectionArn)
	}
	got, err := ext.GetConnection(ctx, &slipwayapi.GetConnectionInput{ConnectionArn: out.ConnectionArn})
	if err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	c := got.Connection
	if c.ConnectionName != "github" || c.RemoteURL != "https://github.com/{FullRepositoryId}.git" || c.Username != "x-access-token" ||
		c.Password != slipwayapi.SecretMask || c.ConnectionStatus != "AVAILABLE" || c.OwnerAccountId != b.srv.AccountID() || c.Created == nil {
		t.Errorf("GetConnection = %+v", c)
	}
	// The codestar-connections form of the ARN names the same connection.
	if _, err := ext.GetConnection(ctx, &slipwayapi.GetConnectionInput{
		ConnectionArn: strings.Replace(out.ConnectionArn, "codeconnections", "codestar-connections", 1)}); err != nil {
		t.Errorf("GetConnection by the codestar-connections ARN: %v", err)
	}
	local, err := ext.CreateConnection(ctx, &slipwayapi.CreateConnectionInput{ConnectionName: "local", RemoteURL: "/srv/git/app.git"})
	if err != nil {
		t.Fatalf("CreateConnection local: %v", err)
	}
	list, err := ext.ListConnections(ctx, nil)
	if err != nil || len(list.Connections) != 2 || list.Connections[0].ConnectionName != "github" || list.Connections[1].Password != "" {
		t.Fatalf("ListConnections = %+v, %v", list, err)
	}

	// The password is sealed at rest: not in the database file.
	db, err := os.ReadFile(filepath.Join(b.dir, "slipway.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(b.dir, "slipway.db-wal"))
	if bytes.Contains(db, []byte(secret)) || bytes.Contains(wal, []byte(secret)) {
		t.Error("the connection password is stored in clear")
	}

	for _, tc := range []struct {
		in       slipwayapi.CreateConnectionInput
		contains string
	}{
		{slipwayapi.CreateConnectionInput{ConnectionName: "x", RemoteURL: "https://u:pw@example.com/x.git"}, "must not hold a password"},
		{slipwayapi.CreateConnectionInput{ConnectionName: "x", RemoteURL: "ext::sh -c id"}, "remoteUrl"},
		{slipwayapi.CreateConnectionInput{ConnectionName: "x", RemoteURL: "relative/dir"}, "remoteUrl"},
		{slipwayapi.CreateConnectionInput{ConnectionName: "x", RemoteURL: "git@example.com:app.git", Password: "p"}, "http:// remotes only"},
		{slipwayapi.CreateConnectionInput{ConnectionName: "bad name!", RemoteURL: "/x"}, "connectionName"},
		{slipwayapi.CreateConnectionInput{ConnectionName: "x"}, "remoteUrl"},
		{slipwayapi.CreateConnectionInput{ConnectionName: "x", RemoteURL: "https://example.com/x.git", Password: "a\nb"}, "line breaks"},
	} {
		_, err := ext.CreateConnection(ctx, &tc.in)
		wantExtError(t, err, slipwayapi.ValidationException, tc.contains)
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}

	if _, err := ext.DeleteConnection(ctx, &slipwayapi.DeleteConnectionInput{ConnectionArn: local.ConnectionArn}); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}
	_, err = ext.DeleteConnection(ctx, &slipwayapi.DeleteConnectionInput{ConnectionArn: local.ConnectionArn})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, "does not exist")
	_, err = ext.GetConnection(ctx, &slipwayapi.GetConnectionInput{ConnectionArn: local.ConnectionArn})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, "does not exist")
	_, err = ext.GetConnection(ctx, &slipwayapi.GetConnectionInput{ConnectionArn: "arn:aws:s3:::bucket"})
	wantExtError(t, err, slipwayapi.ValidationException, "connectionArn")
}

// lockedLog is a concurrency-safe log buffer.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func hexMAC(h func() hash.Hash, key, body []byte) string {
	m := hmac.New(h, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// deliver POSTs a webhook delivery and returns the status and the body.
func deliver(t *testing.T, url string, headers map[string]string, body []byte) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]string
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func webhookDef(name, pipeline, auth string, cfg *types.WebhookAuthConfiguration, filters ...types.WebhookFilterRule) *types.WebhookDefinition {
	if cfg == nil {
		cfg = &types.WebhookAuthConfiguration{}
	}
	if filters == nil {
		filters = []types.WebhookFilterRule{}
	}
	return &types.WebhookDefinition{Name: aws.String(name), TargetPipeline: aws.String(pipeline), TargetAction: aws.String("Source"),
		Authentication: types.WebhookAuthenticationType(auth), AuthenticationConfiguration: cfg, Filters: filters}
}

// TestWebhooks: signed GitHub, Gitea and GitLab push deliveries start the
// pipeline pinned to the pushed commit; a wrong signature is refused with
// 401 and logged and starts nothing; a filter mismatch is ignored; the
// model's errors come back through the SDK.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	logs := &lockedLog{}
	b := start(t, "", func(c *server.Config) {
		fastEngine(c)
		c.SourcePoll = -1 // webhooks only
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	ctx := context.Background()
	ext := extClient(t, b)
	repo := newExternalRepo(t)
	first := repo.push("main", "first")
	conn, err := ext.CreateConnection(ctx, &slipwayapi.CreateConnectionInput{ConnectionName: "local", RemoteURL: repo.bare})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	if _, err := b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{
		Pipeline: connectionPipeline("Hooked", conn.ConnectionArn, map[string]string{"DetectChanges": "false"})}); err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	waitSourceCommit(t, b.client, "Hooked", first)

	const secret = "whsec-0123456789"
	branchFilter := types.WebhookFilterRule{JsonPath: aws.String("$.ref"), MatchEquals: aws.String("refs/heads/{BranchName}")}
	put, err := b.client.PutWebhook(ctx, &codepipeline.PutWebhookInput{
		Webhook: webhookDef("hooked-github", "Hooked", "GITHUB_HMAC", &types.WebhookAuthConfiguration{SecretToken: aws.String(secret)},
			branchFilter, types.WebhookFilterRule{JsonPath: aws.String("$['repository'].full_name"), MatchEquals: aws.String("{FullRepositoryId}")}),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	if err != nil {
		t.Fatalf("PutWebhook: %v", err)
	}
	wh := put.Webhook
	url := aws.ToString(wh.Url)
	if url != b.url+"/webhooks/hooked-github" || aws.ToString(wh.Arn) != "arn:aws:codepipeline:us-east-1:"+b.srv.AccountID()+":webhook:hooked-github" ||
		aws.ToString(wh.Definition.AuthenticationConfiguration.SecretToken) != "****" || wh.LastTriggered != nil ||
		len(wh.Tags) != 1 || len(wh.Definition.Filters) != 2 {
		t.Errorf("PutWebhook = url %q arn %q token %q last %v tags %v", url, aws.ToString(wh.Arn),
			aws.ToString(wh.Definition.AuthenticationConfiguration.SecretToken), wh.LastTriggered, wh.Tags)
	}

	// GitHub: a signed push starts the pipeline pinned to its commit.
	second := repo.push("main", "second")
	payload := func(ref, after string) []byte {
		b, _ := json.Marshal(map[string]any{"ref": ref, "before": first, "after": after,
			"repository": map[string]any{"full_name": "team/app"}, "commits": []any{map[string]any{"id": after}}})
		return b
	}
	body := payload("refs/heads/main", second)
	status, resp := deliver(t, url, map[string]string{"X-GitHub-Event": "push",
		"X-Hub-Signature-256": "sha256=" + hexMAC(sha256.New, []byte(secret), body)}, body)
	if status != http.StatusOK || resp["pipelineExecutionId"] == "" {
		t.Fatalf("signed GitHub delivery = %d %v", status, resp)
	}
	x := waitSourceCommit(t, b.client, "Hooked", second)
	if aws.ToString(x.PipelineExecutionId) != resp["pipelineExecutionId"] || x.Trigger == nil ||
		x.Trigger.TriggerType != types.TriggerTypeWebhook || aws.ToString(x.Trigger.TriggerDetail) != aws.ToString(wh.Arn) {
		t.Errorf("webhook execution = %+v", x)
	}
	count := len(executions(t, b.client, "Hooked"))

	// A wrong signature is refused and logged; nothing starts.
	third := repo.push("main", "third")
	body = payload("refs/heads/main", third)
	status, resp = deliver(t, url, map[string]string{"X-GitHub-Event": "push",
		"X-Hub-Signature-256": "sha256=" + hexMAC(sha256.New, []byte("not-the-secret"), body)}, body)
	if status != http.StatusUnauthorized || !strings.Contains(resp["message"], "does not match") {
		t.Errorf("wrong signature = %d %v, want 401", status, resp)
	}
	if !strings.Contains(logs.String(), "webhook delivery refused") || !strings.Contains(logs.String(), "webhook=hooked-github") {
		t.Errorf("the refusal was not logged with the webhook's name:\n%s", logs.String())
	}
	for _, h := range []map[string]string{
		{}, // unsigned
		{"X-Hub-Signature-256": "sha1=" + hexMAC(sha1.New, []byte(secret), body)},
		{"X-Hub-Signature": "sha1=" + hexMAC(sha1.New, []byte("nope"), body)},
		{"X-Gitlab-Token": "nope"},
		{"X-Gitea-Signature": hexMAC(sha256.New, []byte("nope"), body)},
	} {
		if status, resp := deliver(t, url, h, body); status != http.StatusUnauthorized {
			t.Errorf("delivery with %v = %d %v, want 401", h, status, resp)
		}
	}
	// A filter mismatch (another branch) is answered and ignored.
	other := payload("refs/heads/feature", third)
	status, resp = deliver(t, url, map[string]string{"X-Hub-Signature-256": "sha256=" + hexMAC(sha256.New, []byte(secret), other)}, other)
	if status != http.StatusOK || !strings.Contains(resp["message"], "ignored") {
		t.Errorf("other branch = %d %v, want 200 ignored", status, resp)
	}
	// GitHub's ping starts nothing; nor does a branch deletion.
	ping := []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)
	if status, _ := deliver(t, url, map[string]string{"X-GitHub-Event": "ping",
		"X-Hub-Signature-256": "sha256=" + hexMAC(sha256.New, []byte(secret), ping)}, ping); status != http.StatusOK {
		t.Errorf("ping = %d", status)
	}
	del := payload("refs/heads/main", strings.Repeat("0", 40))
	if status, resp := deliver(t, url, map[string]string{"X-Hub-Signature-256": "sha256=" + hexMAC(sha256.New, []byte(secret), del)}, del); status != http.StatusOK || !strings.Contains(resp["message"], "deleted") {
		t.Errorf("deletion = %d %v", status, resp)
	}
	time.Sleep(200 * time.Millisecond)
	if got := len(executions(t, b.client, "Hooked")); got != count {
		t.Fatalf("refused and ignored deliveries started executions: %d, want %d", got, count)
	}

	// GitHub's older SHA-1 signature.
	body = payload("refs/heads/main", third)
	if status, resp := deliver(t, url, map[string]string{"X-Hub-Signature": "sha1=" + hexMAC(sha1.New, []byte(secret), body)}, body); status != http.StatusOK {
		t.Fatalf("SHA-1 signed delivery = %d %v", status, resp)
	}
	waitSourceCommit(t, b.client, "Hooked", third)

	// Gitea: X-Gitea-Signature, the hex HMAC-SHA256.
	fourth := repo.push("main", "fourth")
	body = payload("refs/heads/main", fourth)
	if status, resp := deliver(t, url, map[string]string{"X-Gitea-Event": "push", "X-Gitea-Signature": hexMAC(sha256.New, []byte(secret), body)}, body); status != http.StatusOK {
		t.Fatalf("Gitea delivery = %d %v", status, resp)
	}
	waitSourceCommit(t, b.client, "Hooked", fourth)

	// GitLab: X-Gitlab-Token is the secret; the commit is checkout_sha.
	// Its payload names the repository differently, so this webhook
	// filters on the branch only.
	if _, err := b.client.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: webhookDef("hooked-gitlab", "Hooked", "GITHUB_HMAC",
		&types.WebhookAuthConfiguration{SecretToken: aws.String(secret)}, branchFilter,
		types.WebhookFilterRule{JsonPath: aws.String("$.project.path_with_namespace"), MatchEquals: aws.String("{FullRepositoryId}")})}); err != nil {
		t.Fatalf("PutWebhook gitlab: %v", err)
	}
	fifth := repo.push("main", "fifth")
	gl, _ := json.Marshal(map[string]any{"object_kind": "push", "ref": "refs/heads/main", "before": fourth, "after": fifth,
		"checkout_sha": fifth, "project": map[string]any{"path_with_namespace": "team/app"}})
	if status, resp := deliver(t, b.url+"/webhooks/hooked-gitlab", map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": secret}, gl); status != http.StatusOK {
		t.Fatalf("GitLab delivery = %d %v", status, resp)
	}
	waitSourceCommit(t, b.client, "Hooked", fifth)

	// IP and UNAUTHENTICATED webhooks.
	for _, tc := range []struct {
		name, auth string
		cfg        *types.WebhookAuthConfiguration
		want       int
	}{
		{"hooked-ip", "IP", &types.WebhookAuthConfiguration{AllowedIPRange: aws.String("10.0.0.0/8, 127.0.0.1/32")}, http.StatusOK},
		{"hooked-ip-other", "IP", &types.WebhookAuthConfiguration{AllowedIPRange: aws.String("192.0.2.0/24")}, http.StatusForbidden},
		{"hooked-open", "UNAUTHENTICATED", nil, http.StatusOK},
	} {
		if _, err := b.client.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: webhookDef(tc.name, "Hooked", tc.auth, tc.cfg, branchFilter)}); err != nil {
			t.Fatalf("PutWebhook %s: %v", tc.name, err)
		}
		body := payload("refs/heads/main", fifth)
		if status, resp := deliver(t, b.url+"/webhooks/"+tc.name, nil, body); status != tc.want {
			t.Errorf("%s delivery = %d %v, want %d", tc.name, status, resp, tc.want)
		}
	}
	if status, _ := deliver(t, b.url+"/webhooks/no-such-hook", nil, []byte(`{}`)); status != http.StatusNotFound {
		t.Errorf("delivery to a missing webhook = %d, want 404", status)
	}

	// ListWebhooks: paging, lastTriggered, the token masked.
	var names []string
	var next *string
	for {
		out, err := b.client.ListWebhooks(ctx, &codepipeline.ListWebhooksInput{MaxResults: aws.Int32(2), NextToken: next})
		if err != nil {
			t.Fatalf("ListWebhooks: %v", err)
		}
		for _, w := range out.Webhooks {
			names = append(names, aws.ToString(w.Definition.Name))
			if aws.ToString(w.Definition.Name) == "hooked-github" &&
				(w.LastTriggered == nil || aws.ToString(w.Definition.AuthenticationConfiguration.SecretToken) != "****" || aws.ToString(w.Url) != url) {
				t.Errorf("listed hooked-github = last %v token %q url %q", w.LastTriggered, aws.ToString(w.Definition.AuthenticationConfiguration.SecretToken), aws.ToString(w.Url))
			}
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	if want := []string{"hooked-github", "hooked-gitlab", "hooked-ip", "hooked-ip-other", "hooked-open"}; !slices.Equal(names, want) {
		t.Errorf("ListWebhooks = %q, want %q", names, want)
	}

	// The model's errors through the SDK.
	for _, tc := range []struct {
		def      *types.WebhookDefinition
		code     string
		contains string
	}{
		{webhookDef("bad", "Hooked", "UNAUTHENTICATED", nil, types.WebhookFilterRule{JsonPath: aws.String("$..ref"), MatchEquals: aws.String("x")}),
			"InvalidWebhookFilterPatternException", "deep scan"},
		{webhookDef("bad", "Hooked", "UNAUTHENTICATED", nil, types.WebhookFilterRule{JsonPath: aws.String("$.commits[?(@.id)]")}),
			"InvalidWebhookFilterPatternException", "filter"},
		{webhookDef("bad", "Hooked", "UNAUTHENTICATED", nil, types.WebhookFilterRule{JsonPath: aws.String("ref")}),
			"InvalidWebhookFilterPatternException", "starts with $"},
		{webhookDef("bad", "Hooked", "UNAUTHENTICATED", nil, types.WebhookFilterRule{JsonPath: aws.String("$.ref"), MatchEquals: aws.String("refs/heads/{Branch}")}),
			"InvalidWebhookFilterPatternException", "{Branch}"},
		{webhookDef("bad", "Hooked", "GITHUB_HMAC", nil), "InvalidWebhookAuthenticationParametersException", "SecretToken"},
		{webhookDef("bad", "Hooked", "IP", &types.WebhookAuthConfiguration{AllowedIPRange: aws.String("not-a-range")}),
			"InvalidWebhookAuthenticationParametersException", "CIDR"},
		{webhookDef("bad", "NoSuchPipeline", "UNAUTHENTICATED", nil), "PipelineNotFoundException", "NoSuchPipeline"},
		{&types.WebhookDefinition{Name: aws.String("bad"), TargetPipeline: aws.String("Hooked"), TargetAction: aws.String("Approve"),
			Authentication: "UNAUTHENTICATED", AuthenticationConfiguration: &types.WebhookAuthConfiguration{}, Filters: []types.WebhookFilterRule{}},
			"ValidationException", "not a source action"},
	} {
		_, err := b.client.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: tc.def})
		wantAPIError(t, err, tc.code, tc.contains)
	}
	_, err = b.client.RegisterWebhookWithThirdParty(ctx, &codepipeline.RegisterWebhookWithThirdPartyInput{WebhookName: aws.String("no-such-hook")})
	wantAPIError(t, err, "WebhookNotFoundException", "") // the model's exception has no message member
	_, err = b.client.DeregisterWebhookWithThirdParty(ctx, &codepipeline.DeregisterWebhookWithThirdPartyInput{WebhookName: aws.String("no-such-hook")})
	wantAPIError(t, err, "WebhookNotFoundException", "")
	if _, err := b.client.RegisterWebhookWithThirdParty(ctx, &codepipeline.RegisterWebhookWithThirdPartyInput{WebhookName: aws.String("hooked-github")}); err != nil {
		t.Errorf("RegisterWebhookWithThirdParty: %v", err)
	}

	// Re-putting with the mask keeps the token; delete is idempotent and
	// makes the URL answer 404.
	if _, err := b.client.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: webhookDef("hooked-github", "Hooked", "GITHUB_HMAC",
		&types.WebhookAuthConfiguration{SecretToken: aws.String("****")}, branchFilter)}); err != nil {
		t.Fatalf("PutWebhook with the mask: %v", err)
	}
	sixth := repo.push("main", "sixth")
	body = payload("refs/heads/main", sixth)
	if status, resp := deliver(t, url, map[string]string{"X-Hub-Signature-256": "sha256=" + hexMAC(sha256.New, []byte(secret), body)}, body); status != http.StatusOK {
		t.Fatalf("delivery after re-put = %d %v", status, resp)
	}
	waitSourceCommit(t, b.client, "Hooked", sixth)
	for range 2 {
		if _, err := b.client.DeleteWebhook(ctx, &codepipeline.DeleteWebhookInput{Name: aws.String("hooked-github")}); err != nil {
			t.Fatalf("DeleteWebhook: %v", err)
		}
	}
	if status, _ := deliver(t, url, map[string]string{"X-Hub-Signature-256": "sha256=" + hexMAC(sha256.New, []byte(secret), body)}, body); status != http.StatusNotFound {
		t.Errorf("delivery to a deleted webhook = %d, want 404", status)
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the logs hold the webhook secret")
	}
}
