package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/githost"
	"github.com/slipway-cd/slipway/internal/store"
)

// Push triggers. A push to a hosted repository starts the pipelines whose
// CodeCommit source action reads that repository, pinned to the pushed
// commit (StartParams.SourceRevisions, which reaches the source job as the
// configuration key engine.RevisionKey):
//
//   - A pipeline without triggers (V1 style, and V2 pipelines that declare
//     none) starts when the branch in the action's BranchName moves, as
//     CodeCommit's change detection does. Trigger type CloudWatchEvent.
//     Detection is always on for hosted repositories: the action's
//     PollForSourceChanges is not consulted (nothing polls; the push is the
//     event).
//   - A pipeline with triggers has default change detection off ("When a
//     trigger configuration is specified, default change detection for
//     repository and branch commits is disabled", the model says): only a
//     trigger whose gitConfiguration.sourceActionName names the CodeCommit
//     action starts it. A trigger without push or pullRequest filters
//     starts it on a push to the action's BranchName; otherwise any of its
//     push filters must match the push (matchPush: branches, tags, file
//     paths). Trigger type WebhookV2.
//
// A tag push (refs/tags/...) starts only through a tags filter, pinned to
// the commit the tag points at. Deleted refs start nothing. The files a
// push changed are those of `git diff old new`; for a new branch or tag,
// those of the new commit against its first parent (every file for a root
// commit).

// pushStart is the execution a push starts: its trigger type and the
// source actions it pins to the pushed commit.
type pushStart struct {
	TriggerType string
	Actions     []string
}

// pushStarts decides whether a push of ref (pointing at commit) to the
// hosted repository repo starts the pipeline decl, and for which source
// actions. changed returns the files the push changed; it is called only
// when a file path filter needs them. It returns nil when the push does not
// start the pipeline.
func pushStarts(decl *cpapi.PipelineDeclaration, repo, ref string, changed func() []string) *pushStart {
	if len(decl.Stages) == 0 {
		return nil
	}
	branch, isBranch := strings.CutPrefix(ref, "refs/heads/")
	var st pushStart
	for _, a := range decl.Stages[0].Actions { // source actions are all in the first stage
		id := a.ActionTypeId
		if id == nil || id.Category != cpapi.ActionCategorySource || id.Owner != cpapi.ActionOwnerAws ||
			id.Provider != "CodeCommit" || a.Configuration["RepositoryName"] != repo {
			continue
		}
		if len(decl.Triggers) == 0 {
			if isBranch && branch == a.Configuration["BranchName"] {
				st.TriggerType = cpapi.TriggerTypeCloudWatchEvent
				st.Actions = append(st.Actions, a.Name)
			}
			continue
		}
		git := triggerFor(decl, a.Name)
		if git == nil {
			continue // the pipeline has triggers, none for this action: no detection
		}
		if triggerMatches(git, a.Configuration["BranchName"], ref, changed) {
			st.TriggerType = cpapi.TriggerTypeWebhookV2
			st.Actions = append(st.Actions, a.Name)
		}
	}
	if len(st.Actions) == 0 {
		return nil
	}
	return &st
}

// triggerFor returns the git configuration of the trigger that names the
// source action, or nil.
func triggerFor(decl *cpapi.PipelineDeclaration, action string) *cpapi.GitConfiguration {
	for _, t := range decl.Triggers {
		if t.GitConfiguration != nil && t.GitConfiguration.SourceActionName == action {
			return t.GitConfiguration
		}
	}
	return nil
}

// triggerMatches reports whether a push of ref satisfies a trigger of a
// source action whose configured branch is defaultBranch.
func triggerMatches(git *cpapi.GitConfiguration, defaultBranch, ref string, changed func() []string) bool {
	// Pull request filters start pipelines on pull request events, which
	// hosted repositories do not have (they have no pull requests); they
	// never match a push.
	if len(git.Push) == 0 {
		// A trigger with no filters at all behaves as "no filter": a push
		// to the action's branch. With only pullRequest filters, pushes
		// start nothing.
		return len(git.PullRequest) == 0 && ref == "refs/heads/"+defaultBranch
	}
	for _, f := range git.Push {
		var files []string
		if f.FilePaths != nil && strings.HasPrefix(ref, "refs/heads/") {
			files = changed()
		}
		if matchPush(f, ref, files) {
			return true
		}
	}
	return false
}

// onPush starts the pipelines a push to a hosted repository triggers (see
// pushStarts).
func (s *Server) onPush(repo string, updates []githost.RefUpdate) {
	ctx := context.Background()
	log := s.cfg.Logger.With("repo", repo)
	pipes, err := s.store.ListPipelines(ctx, store.Page{})
	if err != nil {
		log.Error("push trigger: list pipelines", "err", err)
		return
	}
	decls := make([]*cpapi.PipelineDeclaration, len(pipes))
	for i, p := range pipes {
		var d cpapi.PipelineDeclaration
		if err := json.Unmarshal(p.Declaration, &d); err != nil {
			log.Error("push trigger: decode pipeline", "pipeline", p.Name, "err", err)
			continue
		}
		decls[i] = &d
	}
	dir := s.repos.Path(repo)
	for _, u := range updates {
		if u.New == "" || !(strings.HasPrefix(u.Ref, "refs/heads/") || strings.HasPrefix(u.Ref, "refs/tags/")) {
			continue
		}
		commit := u.New
		if strings.HasPrefix(u.Ref, "refs/tags/") {
			// An annotated tag points at a tag object: pin its commit.
			if commit, err = gitOutput(ctx, dir, "rev-parse", "--verify", "--quiet", u.New+"^{commit}"); err != nil {
				log.Info("push trigger: tag points at no commit", "ref", u.Ref, "err", err)
				continue
			}
			commit = strings.TrimSpace(commit)
		}
		changed := sync.OnceValue(func() []string {
			files, err := changedFiles(ctx, dir, u.Old, commit)
			if err != nil {
				log.Error("push trigger: changed files", "ref", u.Ref, "err", err)
			}
			return files
		})
		for i, p := range pipes {
			if decls[i] == nil {
				continue
			}
			st := pushStarts(decls[i], repo, u.Ref, changed)
			if st == nil {
				continue
			}
			params := engine.StartParams{TriggerType: st.TriggerType, TriggerDetail: "git push to " + repo + " " + u.Ref}
			for _, a := range st.Actions {
				params.SourceRevisions = append(params.SourceRevisions, cpapi.SourceRevisionOverride{
					ActionName: a, RevisionType: cpapi.SourceRevisionTypeCommitId, RevisionValue: commit})
			}
			execID, err := s.engine.StartExecution(ctx, p.Name, params)
			if err != nil {
				log.Error("push trigger: start execution", "pipeline", p.Name, "err", err)
				continue
			}
			log.Info("push started an execution", "pipeline", p.Name, "execution", execID, "ref", u.Ref,
				"commit", commit, "trigger", st.TriggerType)
		}
	}
}

// changedFiles lists the files that differ between the commits from and
// to of the git repository at dir. Without from (a new branch or tag), it
// lists the files to changed against its first parent, or every file of a
// root commit.
func changedFiles(ctx context.Context, dir, from, to string) ([]string, error) {
	var out string
	var err error
	switch {
	case from != "":
		out, err = gitOutput(ctx, dir, "diff", "--name-only", "-z", "--no-renames", from, to, "--")
	default:
		var parents string
		if parents, err = gitOutput(ctx, dir, "rev-list", "--parents", "-n", "1", to); err != nil {
			return nil, err
		}
		if f := strings.Fields(parents); len(f) > 1 {
			out, err = gitOutput(ctx, dir, "diff", "--name-only", "-z", "--no-renames", f[1], to, "--")
		} else {
			out, err = gitOutput(ctx, dir, "ls-tree", "-r", "-z", "--name-only", to)
		}
	}
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range strings.Split(out, "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

// gitOutput runs git in dir and returns its standard output.
func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
