package main

// B1 and B2: the orchestration overhead and throughput of pipelines whose
// actions are custom actions done by no-op job workers.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

var (
	srcType = &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerCustom, Provider: aws.String("BenchSource"), Version: aws.String("1")}
	runType = &types.ActionTypeId{Category: types.ActionCategoryBuild, Owner: types.ActionOwnerCustom, Provider: aws.String("BenchRun"), Version: aws.String("1")}
)

func createTypes(ctx context.Context, c *codepipeline.Client) {
	for _, t := range []struct {
		id      *types.ActionTypeId
		in, out int32
	}{{srcType, 0, 1}, {runType, 0, 0}} {
		must(c.CreateCustomActionType(ctx, &codepipeline.CreateCustomActionTypeInput{
			Category: t.id.Category, Provider: t.id.Provider, Version: t.id.Version,
			InputArtifactDetails:  &types.ArtifactDetails{MinimumCount: t.in, MaximumCount: t.in},
			OutputArtifactDetails: &types.ArtifactDetails{MinimumCount: t.out, MaximumCount: t.out},
		}))
	}
}

// benchPipeline is Source; A and B in parallel; C after them.
func benchPipeline(name string) *types.PipelineDeclaration {
	act := func(n string, id *types.ActionTypeId, order int32, out ...string) types.ActionDeclaration {
		a := types.ActionDeclaration{Name: aws.String(n), ActionTypeId: id, RunOrder: aws.Int32(order)}
		for _, o := range out {
			a.OutputArtifacts = append(a.OutputArtifacts, types.OutputArtifact{Name: aws.String(o)})
		}
		return a
	}
	return &types.PipelineDeclaration{
		Name: aws.String(name), RoleArn: aws.String("arn:aws:iam::123456789012:role/bench"),
		PipelineType: types.PipelineTypeV2, ExecutionMode: types.ExecutionModeQueued,
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("bench")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{act("Src", srcType, 1, "Code")}},
			{Name: aws.String("Work"), Actions: []types.ActionDeclaration{act("A", runType, 1), act("B", runType, 1), act("C", runType, 2)}},
		},
	}
}

// workers poll for jobs of both types and report success at once, until
// ctx ends; they count completions.
func workers(ctx context.Context, c *codepipeline.Client, n int, done *atomic.Int64) *sync.WaitGroup {
	var wg sync.WaitGroup
	for i := range n {
		typ := srcType
		if i%2 == 1 {
			typ = runType
		}
		wg.Go(func() {
			for ctx.Err() == nil {
				out, err := c.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: typ, MaxBatchSize: aws.Int32(10)})
				if err != nil || len(out.Jobs) == 0 {
					time.Sleep(2 * time.Millisecond)
					continue
				}
				for _, j := range out.Jobs {
					if _, err := c.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: j.Id, Nonce: j.Nonce}); err != nil {
						continue
					}
					if _, err := c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: j.Id}); err == nil {
						done.Add(1)
					}
				}
			}
		})
	}
	return &wg
}

// b1 runs one execution at a time and measures its latency and the gaps
// between actions.
func b1(ctx context.Context, s *server, runs int) []result {
	c := s.client
	createTypes(ctx, c)
	must(c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: benchPipeline("B1")}))
	wctx, stop := context.WithCancel(ctx)
	var done atomic.Int64
	wg := workers(wctx, c, 4, &done)
	waitIdle(ctx, c, "B1")
	var total, gaps []float64
	for range runs {
		start := time.Now()
		id := must(c.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("B1")})).PipelineExecutionId
		for {
			out := must(c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("B1"), PipelineExecutionId: id}))
			if out.PipelineExecution.Status == types.PipelineExecutionStatusSucceeded {
				break
			}
			time.Sleep(time.Millisecond)
		}
		total = append(total, ms(time.Since(start)))
		gaps = append(gaps, actionGaps(ctx, c, "B1", aws.ToString(id))...)
	}
	stop()
	wg.Wait()
	return []result{
		summarize("B1", "StartPipelineExecution to Succeeded", "ms", total, "4 actions in 3 groups; workers poll every 2 ms when idle; includes the client's 1 ms polling of GetPipelineExecution"),
		summarize("B1", "action finished to next action started", "ms", gaps, "from ListActionExecutions timestamps (millisecond resolution)"),
	}
}

// actionGaps returns, for each action after the first group, the time from
// the end of the latest action it waited for to its start.
func actionGaps(ctx context.Context, c *codepipeline.Client, pipeline, execID string) []float64 {
	out := must(c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(pipeline),
		Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(execID)}}))
	at := map[string]types.ActionExecutionDetail{}
	for _, d := range out.ActionExecutionDetails {
		at[aws.ToString(d.ActionName)] = d
	}
	end := func(n string) time.Time { return aws.ToTime(at[n].LastUpdateTime) }
	begin := func(n string) time.Time { return aws.ToTime(at[n].StartTime) }
	return []float64{
		ms(begin("A").Sub(end("Src"))),
		ms(begin("B").Sub(end("Src"))),
		ms(begin("C").Sub(later(end("A"), end("B")))),
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// waitIdle waits until the pipeline has no execution in progress.
func waitIdle(ctx context.Context, c *codepipeline.Client, name string) {
	for {
		out := must(c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name), MaxResults: aws.Int32(10)}))
		busy := false
		for _, e := range out.PipelineExecutionSummaries {
			busy = busy || e.Status == types.PipelineExecutionStatusInProgress
		}
		if !busy {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// b2 keeps executions of many pipelines going and counts completed
// actions per second.
func b2(ctx context.Context, s *server, pipelines int, dur time.Duration, nWorkers int) []result {
	c := s.client
	createTypes(ctx, c)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range pipelines {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			must(c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: benchPipeline(fmt.Sprintf("B2-%04d", i))}))
		})
	}
	wg.Wait()
	wctx, stop := context.WithCancel(ctx)
	var done atomic.Int64
	wwg := workers(wctx, c, nWorkers, &done)
	// Starters keep every pipeline's queue fed.
	var starters sync.WaitGroup
	for i := range 4 {
		starters.Go(func() {
			for n := i; wctx.Err() == nil; n += 4 {
				_, _ = c.StartPipelineExecution(wctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String(fmt.Sprintf("B2-%04d", n%pipelines))})
			}
		})
	}
	time.Sleep(2 * time.Second) // warm up
	cpu0, _ := s.usage()
	n0, t0 := done.Load(), time.Now()
	var perSecond, rss []float64
	last := n0
	for time.Since(t0) < dur {
		time.Sleep(time.Second)
		cur := done.Load()
		perSecond = append(perSecond, float64(cur-last))
		last = cur
		_, r := s.usage()
		rss = append(rss, r)
	}
	cpu1, _ := s.usage()
	elapsed := time.Since(t0).Seconds()
	rate := float64(done.Load()-n0) / elapsed
	stop()
	starters.Wait()
	wwg.Wait()
	return []result{
		summarize("B2", "action completions per second (1 s windows)", "actions/s", perSecond,
			fmt.Sprintf("%d pipelines, %d workers, %.0f s: %.0f actions/s on average", pipelines, nWorkers, elapsed, rate)),
		summarize("B2", "server CPU while sustaining it", "cores", []float64{(cpu1 - cpu0) / elapsed}, "user+system CPU seconds per second"),
		summarize("B2", "server RSS", "MiB", rss, ""),
	}
}
