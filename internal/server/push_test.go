package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"main", "main", true},
		{"main", "mainline", false},
		{"*", "main", true},
		{"*", "feature/x", false},
		{"**", "feature/x/y", true},
		{"**", "", true},
		{"feature/*", "feature/login", true},
		{"feature/*", "feature/login/v2", false},
		{"feature/**", "feature/login/v2", true},
		{"release-?", "release-1", true},
		{"release-?", "release-10", false},
		{"release-?", "release-/", false},
		{"*.java", "Foo.java", true},
		{"*.java", "src/Foo.java", false},
		{"**.java", "src/Foo.java", true},
		{"*.*", "a.b", true},
		{"*.*", "ab", false},
		{"*.{java,class}", "A.class", true},
		{"*.{java,class}", "A.go", false},
		{"{src,lib}/**", "lib/x/y.go", true},
		{"{src,lib}/**", "docs/x.md", false},
		{"{,v}1", "1", true},
		{"foo.?", "foo.c", true},
		{"foo.?", "foo.cc", false},
		{"src/**/*.go", "src/a/b.go", true},
		{"src/**/*.go", "src/b.go", false}, // the / after ** must be there (Java glob)
		{"v[0-9]*", "v1.2", true},
		{"v[0-9]*", "vx", false},
		{"v[!0-9]*", "vx", true},
		{"v[!0-9]*", "v1", false},
		{"[!a]", "/", false},
		{"[+-0]", "/", false}, // a range never matches the separator
		{"[+-0]", ",", true},
		{"[-a]", "-", true},
		{"[a-]", "-", true},
		{"[]a]", "]", true},
		{"[*?\\]", "\\", true},
		{"[*?\\]", "*", true},
		{"a\\*", "a*", true},
		{"a\\*", "ab", false},
		{"a\\{b}", "a{b}", true},
		{"a}b", "a}b", true},
		{"a,b", "a,b", true},
		{"a.b", "axb", false},
		{"(x)+", "(x)+", true},
		{"é*", "été", true},
		{"dir/my-file.jar", "dir/my-file.jar", true},
		// Malformed patterns match nothing.
		{"[abc", "a", false},
		{"{a,b", "a", false},
		{"{a,{b}}", "b", false},
		{"x\\", "x", false},
		{"[z-a]", "b", false},
	} {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestMatchPush(t *testing.T) {
	t.Parallel()
	branches := func(in, ex []string) *cpapi.GitBranchFilterCriteria {
		return &cpapi.GitBranchFilterCriteria{Includes: in, Excludes: ex}
	}
	tags := func(in, ex []string) *cpapi.GitTagFilterCriteria {
		return &cpapi.GitTagFilterCriteria{Includes: in, Excludes: ex}
	}
	paths := func(in, ex []string) *cpapi.GitFilePathFilterCriteria {
		return &cpapi.GitFilePathFilterCriteria{Includes: in, Excludes: ex}
	}
	l := func(s ...string) []string { return s }
	for _, tc := range []struct {
		name   string
		filter cpapi.GitPushFilter
		ref    string
		files  []string
		want   bool
	}{
		{"branch include", cpapi.GitPushFilter{Branches: branches(l("main"), nil)}, "refs/heads/main", nil, true},
		{"branch include misses", cpapi.GitPushFilter{Branches: branches(l("main"), nil)}, "refs/heads/dev", nil, false},
		{"branch glob", cpapi.GitPushFilter{Branches: branches(l("release/*"), nil)}, "refs/heads/release/1.0", nil, true},
		{"branch exclude wins", cpapi.GitPushFilter{Branches: branches(l("**"), l("wip/**"))}, "refs/heads/wip/x", nil, false},
		{"branch exclude only", cpapi.GitPushFilter{Branches: branches(nil, l("wip"))}, "refs/heads/main", nil, true},
		{"branch filter on a tag push", cpapi.GitPushFilter{Branches: branches(l("**"), nil)}, "refs/tags/v1", nil, false},
		{"tag include", cpapi.GitPushFilter{Tags: tags(l("v*"), nil)}, "refs/tags/v1.2.0", nil, true},
		{"tag exclude wins", cpapi.GitPushFilter{Tags: tags(l("v*"), l("*-rc"))}, "refs/tags/v1.2.0-rc", nil, false},
		{"tag include misses", cpapi.GitPushFilter{Tags: tags(l("v*"), nil)}, "refs/tags/release", nil, false},
		{"tag filter on a branch push", cpapi.GitPushFilter{Tags: tags(l("**"), nil)}, "refs/heads/main", nil, false},
		{"tags and branches: branch push", cpapi.GitPushFilter{Tags: tags(l("v*"), nil), Branches: branches(l("main"), nil)}, "refs/heads/main", nil, true},
		{"file paths ignore tags", cpapi.GitPushFilter{Tags: tags(l("v*"), nil), FilePaths: paths(l("svc/**"), nil)}, "refs/tags/v1", nil, true},
		{"branch and file include", cpapi.GitPushFilter{Branches: branches(l("main"), nil), FilePaths: paths(l("svc/**"), nil)},
			"refs/heads/main", l("README.md", "svc/api/main.go"), true},
		{"branch and file include misses", cpapi.GitPushFilter{Branches: branches(l("main"), nil), FilePaths: paths(l("svc/**"), nil)},
			"refs/heads/main", l("README.md", "docs/a.md"), false},
		{"file exclude wins for that file", cpapi.GitPushFilter{FilePaths: paths(l("**"), l("**.md"))},
			"refs/heads/main", l("README.md", "docs/a.md"), false},
		{"another file passes", cpapi.GitPushFilter{FilePaths: paths(l("**"), l("**.md"))},
			"refs/heads/main", l("README.md", "main.go"), true},
		{"file excludes only", cpapi.GitPushFilter{FilePaths: paths(nil, l("docs/**"))}, "refs/heads/x", l("docs/a.md"), false},
		{"file excludes only passes", cpapi.GitPushFilter{FilePaths: paths(nil, l("docs/**"))}, "refs/heads/x", l("a.go"), true},
		{"nothing changed", cpapi.GitPushFilter{FilePaths: paths(l("**"), nil)}, "refs/heads/main", nil, false},
		{"root file", cpapi.GitPushFilter{FilePaths: paths(l("*.go"), nil)}, "refs/heads/main", l("pkg/a.go"), false},
		{"empty filter: any branch", cpapi.GitPushFilter{}, "refs/heads/anything", nil, true},
		{"empty filter: no tag", cpapi.GitPushFilter{}, "refs/tags/v1", nil, false},
		{"other ref", cpapi.GitPushFilter{Branches: branches(l("**"), nil)}, "refs/notes/commits", nil, false},
		{"malformed include", cpapi.GitPushFilter{Branches: branches(l("[main"), nil)}, "refs/heads/main", nil, false},
	} {
		if got := matchPush(tc.filter, tc.ref, tc.files); got != tc.want {
			t.Errorf("%s: matchPush(%s, %v) = %v, want %v", tc.name, tc.ref, tc.files, got, tc.want)
		}
	}
}

func TestPushStarts(t *testing.T) {
	t.Parallel()
	cc := func(name, repo, branch string) cpapi.ActionDeclaration {
		return cpapi.ActionDeclaration{Name: name,
			ActionTypeId:  &cpapi.ActionTypeId{Category: cpapi.ActionCategorySource, Owner: cpapi.ActionOwnerAws, Provider: "CodeCommit", Version: "1"},
			Configuration: map[string]string{"RepositoryName": repo, "BranchName": branch}}
	}
	s3 := cpapi.ActionDeclaration{Name: "Assets",
		ActionTypeId:  &cpapi.ActionTypeId{Category: cpapi.ActionCategorySource, Owner: cpapi.ActionOwnerAws, Provider: "S3", Version: "1"},
		Configuration: map[string]string{"S3Bucket": "b", "S3ObjectKey": "k"}}
	pipe := func(triggers []cpapi.PipelineTriggerDeclaration, actions ...cpapi.ActionDeclaration) *cpapi.PipelineDeclaration {
		return &cpapi.PipelineDeclaration{Name: "p", Triggers: triggers, Stages: []cpapi.StageDeclaration{{Name: "Source", Actions: actions}}}
	}
	trigger := func(action string, push []cpapi.GitPushFilter, pr []cpapi.GitPullRequestFilter) []cpapi.PipelineTriggerDeclaration {
		return []cpapi.PipelineTriggerDeclaration{{ProviderType: "CodeStarSourceConnection",
			GitConfiguration: &cpapi.GitConfiguration{SourceActionName: action, Push: push, PullRequest: pr}}}
	}
	svcOnly := []cpapi.GitPushFilter{{Branches: &cpapi.GitBranchFilterCriteria{Includes: []string{"main"}},
		FilePaths: &cpapi.GitFilePathFilterCriteria{Includes: []string{"svc/**"}}}}
	tagsOnly := []cpapi.GitPushFilter{{Tags: &cpapi.GitTagFilterCriteria{Includes: []string{"v*"}}}}
	prOnly := []cpapi.GitPullRequestFilter{{Events: []string{"OPEN"}}}

	for _, tc := range []struct {
		name  string
		decl  *cpapi.PipelineDeclaration
		ref   string
		files []string
		want  string // "TriggerType:Action,Action" or "" for no start
	}{
		{"v1 branch", pipe(nil, cc("Src", "app", "main")), "refs/heads/main", nil, "CloudWatchEvent:Src"},
		{"v1 other branch", pipe(nil, cc("Src", "app", "main")), "refs/heads/dev", nil, ""},
		{"v1 other repo", pipe(nil, cc("Src", "other", "main")), "refs/heads/main", nil, ""},
		{"v1 tag", pipe(nil, cc("Src", "app", "main")), "refs/tags/main", nil, ""},
		{"v1 two actions", pipe(nil, cc("A", "app", "main"), s3, cc("B", "app", "main"), cc("C", "app", "dev")), "refs/heads/main", nil, "CloudWatchEvent:A,B"},
		{"trigger without filters: default branch", pipe(trigger("Src", nil, nil), cc("Src", "app", "main")), "refs/heads/main", nil, "WebhookV2:Src"},
		{"trigger without filters: other branch", pipe(trigger("Src", nil, nil), cc("Src", "app", "main")), "refs/heads/dev", nil, ""},
		{"pull request trigger ignores pushes", pipe(trigger("Src", nil, prOnly), cc("Src", "app", "main")), "refs/heads/main", nil, ""},
		{"file path filter matches", pipe(trigger("Src", svcOnly, nil), cc("Src", "app", "main")), "refs/heads/main", []string{"svc/a.go"}, "WebhookV2:Src"},
		{"file path filter misses", pipe(trigger("Src", svcOnly, nil), cc("Src", "app", "main")), "refs/heads/main", []string{"docs/a.md"}, ""},
		{"tag filter", pipe(trigger("Src", tagsOnly, nil), cc("Src", "app", "main")), "refs/tags/v2", nil, "WebhookV2:Src"},
		{"tag filter, branch push", pipe(trigger("Src", tagsOnly, nil), cc("Src", "app", "main")), "refs/heads/main", nil, ""},
		{"trigger for another action turns detection off", pipe(trigger("Other", nil, nil), cc("Src", "app", "main"), cc("Other", "lib", "main")),
			"refs/heads/main", nil, ""},
		{"no stages", &cpapi.PipelineDeclaration{Name: "p"}, "refs/heads/main", nil, ""},
	} {
		calls := 0
		st := pushStarts(tc.decl, "app", tc.ref, func() []string { calls++; return tc.files })
		got := ""
		if st != nil {
			got = st.TriggerType + ":" + strings.Join(st.Actions, ",")
		}
		if got != tc.want {
			t.Errorf("%s: pushStarts = %q, want %q", tc.name, got, tc.want)
		}
		if tc.files == nil && calls > 0 {
			t.Errorf("%s: changed files asked for %d times without a file path filter", tc.name, calls)
		}
	}
}

func TestChangedFiles(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git binary")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
			"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com", "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "--quiet", "--initial-branch=main")
	write("README.md", "a\n")
	write("svc/a b.go", "package svc\n")
	git("add", ".")
	git("commit", "--quiet", "-m", "root")
	root := git("rev-parse", "HEAD")
	write("svc/ünï.go", "package svc\n")
	git("mv", "README.md", "README.txt")
	git("add", ".")
	git("commit", "--quiet", "-m", "second")
	second := git("rev-parse", "HEAD")

	ctx := context.Background()
	for _, tc := range []struct {
		name, from, to string
		want           []string
	}{
		{"root commit: every file", "", root, []string{"README.md", "svc/a b.go"}},
		{"new ref: against the first parent", "", second, []string{"README.md", "README.txt", "svc/ünï.go"}},
		{"old to new", root, second, []string{"README.md", "README.txt", "svc/ünï.go"}},
		{"no change", second, second, nil},
	} {
		got, err := changedFiles(ctx, dir, tc.from, tc.to)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: changedFiles = %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := changedFiles(ctx, dir, "", "0000000000000000000000000000000000000000"); err == nil {
		t.Error("changedFiles of a missing commit succeeded")
	}
}
