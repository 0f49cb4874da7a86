package main

// B3 trigger latency: from a git push until the first action after the
// source starts, through a hosted repository's push callback (CodeCommit
// source) and through polling a local bare remote at the server's default
// interval (CodeStarSourceConnection source).

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// git runs git in dir and returns its trimmed output.
func git(dir string, args ...string) string {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@example.com",
		"GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@example.com", "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// gitWorktree makes a repository with one commit of files.
func gitWorktree(dir string, files map[string]string) {
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		must(0, os.MkdirAll(filepath.Dir(p), 0o755))
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		must(0, os.WriteFile(p, []byte(content), mode))
	}
	git(dir, "init", "--quiet", "--initial-branch=main")
	git(dir, "add", "--all")
	git(dir, "commit", "--quiet", "-m", "initial")
}

// commit adds a commit that changes one file.
func commit(dir string, n int) {
	must(0, os.WriteFile(filepath.Join(dir, "revision.txt"), []byte(fmt.Sprintf("%d %s\n", n, time.Now())), 0o644))
	git(dir, "add", "--all")
	git(dir, "commit", "--quiet", "-m", fmt.Sprintf("change %d", n))
}

// triggerPipeline is a source action, then one custom action the no-op
// workers complete.
func triggerPipeline(name string, source types.ActionDeclaration) *types.PipelineDeclaration {
	return &types.PipelineDeclaration{
		Name: aws.String(name), RoleArn: aws.String("arn:aws:iam::123456789012:role/bench"),
		PipelineType:  types.PipelineTypeV2,
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("bench")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{source}},
			{Name: aws.String("Next"), Actions: []types.ActionDeclaration{{Name: aws.String("Next"), ActionTypeId: runType, RunOrder: aws.Int32(1)}}},
		},
	}
}

// executionIDs returns the IDs of a pipeline's executions.
func executionIDs(ctx context.Context, c *codepipeline.Client, name string) map[string]bool {
	ids := map[string]bool{}
	out := must(c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name), MaxResults: aws.Int32(50)}))
	for _, e := range out.PipelineExecutionSummaries {
		ids[aws.ToString(e.PipelineExecutionId)] = true
	}
	return ids
}

// nextActionStart waits for an execution not in before and returns when
// its action Next started (server time) and the execution's trigger.
func nextActionStart(ctx context.Context, c *codepipeline.Client, name string, before map[string]bool, timeout time.Duration) (time.Time, string, error) {
	deadline := time.Now().Add(timeout)
	id, trigger := "", ""
	for time.Now().Before(deadline) {
		if id == "" {
			out := must(c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name), MaxResults: aws.Int32(50)}))
			for _, e := range out.PipelineExecutionSummaries {
				if !before[aws.ToString(e.PipelineExecutionId)] {
					id = aws.ToString(e.PipelineExecutionId)
					if e.Trigger != nil {
						trigger = string(e.Trigger.TriggerType)
					}
				}
			}
		}
		if id != "" {
			out := must(c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(name),
				Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(id)}}))
			for _, d := range out.ActionExecutionDetails {
				if aws.ToString(d.ActionName) == "Next" && d.StartTime != nil {
					return *d.StartTime, trigger, nil
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}, trigger, fmt.Errorf("no execution reached action Next within %s", timeout)
}

func b3(ctx context.Context, s *server, pushes, polls int) []result {
	c := s.client
	createTypes(ctx, c)
	dir := must(os.MkdirTemp("", "slipway-bench-b3-"))
	defer os.RemoveAll(dir)
	wctx, stopWorkers := context.WithCancel(ctx)
	var done atomic.Int64
	wg := workers(wctx, c, 2, &done)
	defer func() { stopWorkers(); wg.Wait() }()

	// Polling: a bare remote on local disk, watched through a connection.
	bare := filepath.Join(dir, "remote.git")
	git(dir, "init", "--quiet", "--bare", "--initial-branch=main", bare)
	pollWork := filepath.Join(dir, "poll-work")
	gitWorktree(pollWork, map[string]string{"README": "polled\n"})
	git(pollWork, "push", "--quiet", bare, "main")
	conn := must(s.ext.CreateConnection(ctx, &slipwayapi.CreateConnectionInput{ConnectionName: "local", RemoteURL: bare}))
	must(c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: triggerPipeline("Polled", types.ActionDeclaration{
		Name:            aws.String("Source"),
		ActionTypeId:    &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerAws, Provider: aws.String("CodeStarSourceConnection"), Version: aws.String("1")},
		OutputArtifacts: []types.OutputArtifact{{Name: aws.String("Code")}},
		Configuration:   map[string]string{"ConnectionArn": conn.ConnectionArn, "FullRepositoryId": "local/remote", "BranchName": "main"},
		RunOrder:        aws.Int32(1),
	})}))
	created := time.Now()

	// Push: a hosted repository.
	repo := must(s.ext.CreateRepository(ctx, &slipwayapi.CreateRepositoryInput{RepositoryName: "trigger"}))
	pushURL := s.authURL(repo.Repository.CloneURLHTTP)
	pushWork := filepath.Join(dir, "push-work")
	gitWorktree(pushWork, map[string]string{"README": "pushed\n"})
	git(pushWork, "push", "--quiet", pushURL, "main")
	must(c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: triggerPipeline("Pushed", types.ActionDeclaration{
		Name:            aws.String("Source"),
		ActionTypeId:    &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerAws, Provider: aws.String("CodeCommit"), Version: aws.String("1")},
		OutputArtifacts: []types.OutputArtifact{{Name: aws.String("Code")}},
		Configuration:   map[string]string{"RepositoryName": "trigger", "BranchName": "main"},
		RunOrder:        aws.Int32(1),
	})}))

	// The polled samples run alongside the pushed ones: the first poll
	// round after the pipeline exists only records the remote's state,
	// so the first push waits for one interval to pass.
	var pollLat []float64
	var pollErr error
	var pollWG sync.WaitGroup
	pollWG.Go(func() {
		sleepCtx(ctx, time.Until(created.Add(70*time.Second)))
		waitIdle(ctx, c, "Polled")
		for i := range polls {
			// A push lands at a random point of the poll interval, as
			// pushes do; without the pause every push would follow a
			// round closely (the previous sample's round).
			sleepCtx(ctx, time.Duration(mrand.Int64N(int64(time.Minute))))
			commit(pollWork, i)
			before := executionIDs(ctx, c, "Polled")
			start := time.Now()
			git(pollWork, "push", "--quiet", bare, "main")
			at, trig, err := nextActionStart(ctx, c, "Polled", before, 3*time.Minute)
			if err != nil {
				pollErr = err
				return
			}
			progress("B3: polled sample %d of %d: %.1f s (%s)", i+1, polls, at.Sub(start).Seconds(), trig)
			pollLat = append(pollLat, at.Sub(start).Seconds())
			waitIdle(ctx, c, "Polled")
		}
	})

	waitIdle(ctx, c, "Pushed")
	var pushLat []float64
	triggers := map[string]int{}
	for i := range pushes {
		commit(pushWork, i)
		before := executionIDs(ctx, c, "Pushed")
		start := time.Now()
		git(pushWork, "push", "--quiet", pushURL, "main")
		at, trig, err := nextActionStart(ctx, c, "Pushed", before, time.Minute)
		if err != nil {
			fatalf("B3 push sample %d: %v", i, err)
		}
		triggers[trig]++
		pushLat = append(pushLat, ms(at.Sub(start)))
		waitIdle(ctx, c, "Pushed")
	}
	progress("B3: push samples done; waiting for the polled ones")
	pollWG.Wait()
	rs := []result{summarize("B3", "git push (hosted) to next action started", "ms", pushLat,
		fmt.Sprintf("includes the git client's push (smart HTTP, git-receive-pack); triggers %v", triggers))}
	note := "CodeStarSourceConnection on a local bare remote, default --source-poll-interval (1 min), each push at a random point of the interval: expect 0-60 s (30 s on average) plus a round"
	if pollErr != nil {
		rs = append(rs, missing("B3", "git push (polled remote) to next action started", pollErr.Error()))
	} else {
		rs = append(rs, summarize("B3", "git push (polled remote) to next action started", "s", pollLat, note))
	}
	return rs
}
