package gitsource

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/store"
)

func TestCheckRemoteURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url  string
		kind RemoteKind
		err  string
	}{
		{"https://github.com/owner/repo.git", KindHTTP, ""},
		{"http://127.0.0.1:8080/git/app", KindHTTP, ""},
		{"https://git.example.com/{FullRepositoryId}.git", KindHTTP, ""},
		{"ssh://git@example.com:2222/team/app.git", KindSSH, ""},
		{"git@github.com:owner/repo.git", KindSSH, ""},
		{"example.com:/srv/git/app.git", KindSSH, ""},
		{"git://example.com/app.git", KindGit, ""},
		{"file:///srv/git/app.git", KindLocal, ""},
		{"/srv/git/app.git", KindLocal, ""},
		{"/srv/git/{FullRepositoryId}.git", KindLocal, ""},
		{"", "", "empty"},
		{"relative/path", "", "is https://"},
		{"https://user:pw@example.com/x.git", "", "must not hold a password"},
		{"https://user@example.com/x.git", "", "give it as the connection's username"},
		{"ext::sh -c touch% /tmp/pwned", "", "spaces"},
		{"ext::sh", "", "<transport>::<address>"},
		{"fd::3", "", "<transport>::<address>"},
		{"-uhello", "", "must not start with '-'"},
		{"ftp://example.com/x.git", "", "scheme \"ftp\""},
		{"file://otherhost/x.git", "", "file:///path"},
		{"/srv/../etc", "", "'..'"},
		{"https://{FullRepositoryId}/x.git", "", "belongs in the URL's path"},
		{"https://example.com/{Repo}.git", "", "only braces"},
		{"https://example.com/{FullRepositoryId}/{FullRepositoryId}", "", "only once"},
		{"https:///x.git", "", "needs a host"},
	} {
		kind, err := CheckRemoteURL(tc.url)
		switch {
		case tc.err == "" && (err != nil || kind != tc.kind):
			t.Errorf("CheckRemoteURL(%q) = %q, %v; want %q", tc.url, kind, err, tc.kind)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("CheckRemoteURL(%q) = %q, %v; want an error containing %q", tc.url, kind, err, tc.err)
		case err != nil && strings.Contains(err.Error(), "pw@"):
			t.Errorf("CheckRemoteURL(%q) repeats the password: %v", tc.url, err)
		}
	}
}

func TestExpandURLAndARN(t *testing.T) {
	t.Parallel()
	got, err := ExpandURL("https://git.example.com/{FullRepositoryId}.git", "team/app")
	if err != nil || got != "https://git.example.com/team/app.git" {
		t.Errorf("ExpandURL = %q, %v", got, err)
	}
	if got, err := ExpandURL("/srv/app.git", "anything at all"); err != nil || got != "/srv/app.git" {
		t.Errorf("ExpandURL without a placeholder = %q, %v", got, err)
	}
	for _, bad := range []string{"", "../etc", "team/../x", "/abs", "a b", "team/app?x", "-opt"} {
		if _, err := ExpandURL("https://x/{FullRepositoryId}", bad); !errors.Is(err, ErrRepositoryID) {
			t.Errorf("ExpandURL(%q) = %v, want ErrRepositoryID", bad, err)
		}
	}
	arn := ConnectionARN("eu-west-1", "123456789012", "abc")
	if arn != "arn:aws:codeconnections:eu-west-1:123456789012:connection/abc" {
		t.Errorf("ConnectionARN = %q", arn)
	}
	if n := NormalizeARN("arn:aws:codestar-connections:eu-west-1:123456789012:connection/abc"); n != arn {
		t.Errorf("NormalizeARN = %q", n)
	}
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// counter is a Runner that counts ls-remote commands by URL.
type counter struct {
	mu sync.Mutex
	ls map[string]int
}

func (c *counter) Run(ctx context.Context, cmd *Command) ([]byte, error) {
	if i := slices.Index(cmd.Args, "ls-remote"); i >= 0 {
		c.mu.Lock()
		if c.ls == nil {
			c.ls = map[string]int{}
		}
		c.ls[cmd.Args[len(cmd.Args)-1]]++
		c.mu.Unlock()
	}
	return ExecRunner{}.Run(ctx, cmd)
}

func (c *counter) count(url string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ls[url]
}

// starts records StartExecution calls.
type starts struct {
	mu    sync.Mutex
	calls []startCall
}

type startCall struct {
	pipeline string
	params   engine.StartParams
}

func (s *starts) StartExecution(_ context.Context, name string, p engine.StartParams) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, startCall{name, p})
	return "exec-" + name, nil
}

func (s *starts) take() []startCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.calls
	s.calls = nil
	slices.SortFunc(out, func(a, b startCall) int { return strings.Compare(a.pipeline, b.pipeline) })
	return out
}

const connARN = "arn:aws:codeconnections:us-east-1:123456789012:connection/c1"

func sourcePipeline(name string, config map[string]string, triggers ...cpapi.PipelineTriggerDeclaration) []byte {
	cfg := map[string]string{"ConnectionArn": connARN, "FullRepositoryId": "app", "BranchName": "main"}
	for k, v := range config {
		cfg[k] = v
	}
	d := cpapi.PipelineDeclaration{Name: name, Triggers: triggers, Stages: []cpapi.StageDeclaration{
		{Name: "Source", Actions: []cpapi.ActionDeclaration{{Name: "Src", Configuration: cfg,
			ActionTypeId: &cpapi.ActionTypeId{Category: "Source", Owner: "AWS", Provider: Provider, Version: "1"}}}},
		{Name: "Build", Actions: []cpapi.ActionDeclaration{{Name: "B",
			ActionTypeId: &cpapi.ActionTypeId{Category: "Build", Owner: "Custom", Provider: "X", Version: "1"}}}},
	}}
	b, _ := json.Marshal(d)
	return b
}

func trigger(push ...cpapi.GitPushFilter) cpapi.PipelineTriggerDeclaration {
	return cpapi.PipelineTriggerDeclaration{ProviderType: Provider, GitConfiguration: &cpapi.GitConfiguration{SourceActionName: "Src", Push: push}}
}

// globMatcher is a small stand-in for the server's trigger matcher:
// branch and tag includes as path.Match globs.
func globMatcher(git *cpapi.GitConfiguration, _ string, ref string, _ func() []string) bool {
	for _, f := range git.Push {
		var pats []string
		var name string
		if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok && f.Branches != nil {
			pats, name = f.Branches.Includes, b
		} else if tg, ok := strings.CutPrefix(ref, "refs/tags/"); ok && f.Tags != nil {
			pats, name = f.Tags.Includes, tg
		}
		for _, p := range pats {
			if ok, _ := path.Match(p, name); ok {
				return true
			}
		}
	}
	return false
}

// TestPoller drives rounds by hand over a local bare repository watched by
// several pipelines.
func TestPoller(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	remote := filepath.Join(dir, "app.git")
	git(t, dir, "init", "--quiet", "--bare", "--initial-branch=main", remote)
	work := filepath.Join(dir, "work")
	git(t, dir, "clone", "--quiet", remote, work)
	commit := func(msg string) string {
		git(t, work, "commit", "--quiet", "--allow-empty", "-m", msg)
		return git(t, work, "rev-parse", "HEAD")
	}
	c1 := commit("one")
	git(t, work, "push", "--quiet", "origin", "HEAD:main")

	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "slipway.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateConnection(ctx, &store.Connection{ARN: connARN, Name: "c", RemoteURL: remote}); err != nil {
		t.Fatal(err)
	}
	for name, decl := range map[string][]byte{
		"a-main":     sourcePipeline("a-main", nil),
		"b-main":     sourcePipeline("b-main", map[string]string{"DetectChanges": "true"}),
		"c-off":      sourcePipeline("c-off", map[string]string{"DetectChanges": "false"}),
		"d-release":  sourcePipeline("d-release", nil, trigger(cpapi.GitPushFilter{Branches: &cpapi.GitBranchFilterCriteria{Includes: []string{"release/*"}}})),
		"e-prs":      sourcePipeline("e-prs", nil, cpapi.PipelineTriggerDeclaration{GitConfiguration: &cpapi.GitConfiguration{SourceActionName: "Src", PullRequest: []cpapi.GitPullRequestFilter{{Events: []string{"OPEN"}}}}}),
		"f-tags":     sourcePipeline("f-tags", nil, trigger(cpapi.GitPushFilter{Tags: &cpapi.GitTagFilterCriteria{Includes: []string{"v*"}}})),
		"g-noconn":   sourcePipeline("g-noconn", map[string]string{"ConnectionArn": connARN + "x"}),
		"h-otherbr":  sourcePipeline("h-otherbr", map[string]string{"BranchName": "dev"}),
		"i-codestar": sourcePipeline("i-codestar", map[string]string{"ConnectionArn": strings.Replace(connARN, "codeconnections", "codestar-connections", 1)}),
	} {
		if err := st.CreatePipeline(ctx, &store.Pipeline{Name: name, Version: 1, Declaration: decl}); err != nil {
			t.Fatal(err)
		}
	}
	runs := &counter{}
	started := &starts{}
	p := &Poller{Store: st, Engine: started, Resolver: &Resolver{Store: st}, Git: runs, Matches: globMatcher}
	round := func() []startCall {
		t.Helper()
		before := runs.count(remote)
		if err := p.PollOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if n := runs.count(remote) - before; n != 1 {
			t.Fatalf("a round listed the remote %d times, want once", n)
		}
		return started.take()
	}
	wantStarts := func(what string, got []startCall, commit, trigger string, pipelines ...string) {
		t.Helper()
		var names []string
		for _, c := range got {
			names = append(names, c.pipeline)
			sr := c.params.SourceRevisions
			if c.params.TriggerType != trigger || len(sr) != 1 || sr[0].ActionName != "Src" || sr[0].RevisionValue != commit ||
				sr[0].RevisionType != cpapi.SourceRevisionTypeCommitId || !strings.HasPrefix(c.params.ClientToken, "poll-") ||
				c.params.TriggerDetail != connARN {
				t.Errorf("%s: start of %s = %+v, want %s pinned to %s", what, c.pipeline, c.params, trigger, commit)
			}
		}
		if !slices.Equal(names, pipelines) {
			t.Errorf("%s: started %q, want %q", what, names, pipelines)
		}
	}

	// The first listing records without starting; nothing changes, nothing starts.
	wantStarts("first round", round(), "", "")
	wantStarts("quiet round", round(), "", "")

	// A push to main starts the main watchers, not the disabled one.
	c2 := commit("two")
	git(t, work, "push", "--quiet", "origin", "HEAD:main")
	wantStarts("push to main", round(), c2, cpapi.TriggerTypePollForSourceChanges, "a-main", "b-main", "i-codestar")
	wantStarts("after the push", round(), "", "")

	// A new branch matching a trigger starts its pipeline; another does not.
	git(t, work, "push", "--quiet", "origin", "HEAD:refs/heads/release/1.0")
	git(t, work, "push", "--quiet", "origin", "HEAD:refs/heads/feature/x")
	wantStarts("new branches", round(), c2, cpapi.TriggerTypeWebhookV2, "d-release")

	// An annotated tag pins the commit it points at.
	git(t, work, "tag", "-a", "-m", "release", "v1.0")
	git(t, work, "push", "--quiet", "origin", "v1.0")
	wantStarts("annotated tag", round(), c2, cpapi.TriggerTypeWebhookV2, "f-tags")

	// A deleted branch is forgotten: recreating it is a change.
	git(t, work, "push", "--quiet", "origin", ":refs/heads/release/1.0")
	wantStarts("deleted branch", round(), "", "")
	git(t, work, "push", "--quiet", "origin", c1+":refs/heads/release/1.0")
	wantStarts("recreated branch", round(), c1, cpapi.TriggerTypeWebhookV2, "d-release")

	// The state is in the store: a new poller goes on from it.
	p2 := &Poller{Store: st, Engine: started, Resolver: &Resolver{Store: st}, Git: runs, Matches: globMatcher}
	p, p2 = p2, p
	wantStarts("new poller", round(), "", "")
	c3 := commit("three")
	git(t, work, "push", "--quiet", "origin", "HEAD:main")
	wantStarts("new poller, push", round(), c3, cpapi.TriggerTypePollForSourceChanges, "a-main", "b-main", "i-codestar")
	_ = p2

	// The same change makes the same client token (a round repeated after
	// a crash starts nothing twice); another change another token.
	ch := change{ref: "refs/heads/main", old: c1, new: c2, oldSeen: time.UnixMilli(1000)}
	later := ch
	later.oldSeen = time.UnixMilli(2000)
	if clientToken(remote, ch) != clientToken(remote, ch) || clientToken(remote, ch) == clientToken(remote, change{ref: "refs/heads/main", old: c2, new: c1}) ||
		clientToken(remote, ch) == clientToken(remote, later) {
		t.Error("client tokens are not per change")
	}
}
