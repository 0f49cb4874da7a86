// Command bench measures Slipway: it builds the slipway binary, runs a
// server on a fresh data directory and drives it through the AWS SDK, then
// prints a table of figures (median, p95, max) and writes them as JSON.
//
//	go run ./bench                 # the small default sizes
//	go run ./bench -full           # the full sizes of docs/benchmarks.md
//	go run ./bench -only B1 -json results.json
//
// Scenarios:
//
//	B1 orchestration overhead: a 3-stage pipeline (source; two actions in
//	   parallel; one after) whose actions only report success, run one
//	   execution at a time: StartPipelineExecution to Succeeded, and the
//	   gap between an action finishing and the next one starting.
//	B2 throughput: many pipelines, executions started as fast as they are
//	   accepted, no-op workers: action completions per second sustained,
//	   with the server's CPU time and RSS.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

func main() {
	full := flag.Bool("full", false, "run the full sizes")
	only := flag.String("only", "", "run only these scenarios (comma-separated, e.g. B1,B2)")
	jsonOut := flag.String("json", "bench-results.json", "write the results here")
	database := flag.String("database", "", "server database DSN (default: SQLite in the data dir)")
	flag.Parse()

	sizes := smallSizes
	if *full {
		sizes = fullSizes
	}
	want := func(name string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), name) }
	ctx := context.Background()
	var results []result
	if want("B1") {
		s := startServer(*database)
		results = append(results, b1(ctx, s, sizes.b1Runs)...)
		s.stop()
	}
	if want("B2") {
		s := startServer(*database)
		results = append(results, b2(ctx, s, sizes.b2Pipelines, sizes.b2Duration, sizes.b2Workers)...)
		s.stop()
	}
	printTable(results)
	b, _ := json.MarshalIndent(map[string]any{"machine": machine(), "database": cmp.Or(*database, "sqlite"), "results": results}, "", "  ")
	if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nwrote %s\n", *jsonOut)
}

type sizes struct {
	b1Runs      int
	b2Pipelines int
	b2Duration  time.Duration
	b2Workers   int
}

var (
	smallSizes = sizes{b1Runs: 30, b2Pipelines: 100, b2Duration: 15 * time.Second, b2Workers: 8}
	fullSizes  = sizes{b1Runs: 200, b2Pipelines: 1000, b2Duration: 60 * time.Second, b2Workers: 16}
)

// result is one row of the table.
type result struct {
	Scenario string  `json:"scenario"`
	Metric   string  `json:"metric"`
	Unit     string  `json:"unit"`
	N        int     `json:"n"`
	Median   float64 `json:"median"`
	P95      float64 `json:"p95"`
	Max      float64 `json:"max"`
	Note     string  `json:"note,omitempty"`
}

func summarize(scenario, metric, unit string, xs []float64, note string) result {
	if len(xs) == 0 {
		return result{Scenario: scenario, Metric: metric, Unit: unit, Note: note}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	at := func(q float64) float64 { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return result{Scenario: scenario, Metric: metric, Unit: unit, N: len(s), Median: at(0.5), P95: at(0.95), Max: s[len(s)-1], Note: note}
}

func printTable(rs []result) {
	fmt.Printf("\n%-4s %-44s %8s %10s %10s %10s  %s\n", "", "metric", "n", "median", "p95", "max", "unit")
	for _, r := range rs {
		fmt.Printf("%-4s %-44s %8d %10.2f %10.2f %10.2f  %s\n", r.Scenario, r.Metric, r.N, r.Median, r.P95, r.Max, r.Unit)
		if r.Note != "" {
			fmt.Printf("     %s\n", r.Note)
		}
	}
}

// server is a slipway server process.
type server struct {
	cmd    *exec.Cmd
	dir    string
	url    string
	client *codepipeline.Client
}

func startServer(database string) *server {
	dir, err := os.MkdirTemp("", "slipway-bench-")
	if err != nil {
		log.Fatal(err)
	}
	bin := filepath.Join(dir, "slipway")
	build := exec.Command("go", "build", "-o", bin, "./cmd/slipway")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatalf("build slipway (run bench from the repository root): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"server", "--listen", addr, "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn",
		"--max-pipelines", "100000", "--max-custom-action-types", "100"}
	if database != "" {
		args = append(args, "--database", database)
	}
	cmd := exec.Command(bin, args...)
	logf, _ := os.Create(filepath.Join(dir, "server.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	url := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 300 {
			log.Fatalf("server did not start; see %s", logf.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
	id, secret := readCredentials(filepath.Join(dir, "data", "credentials"))
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	client := codepipeline.New(codepipeline.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), RetryMaxAttempts: 5})
	return &server{cmd: cmd, dir: dir, url: url, client: client}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()
	os.RemoveAll(s.dir)
}

// usage returns the server's CPU seconds (user+system) and RSS in MiB.
func (s *server) usage() (float64, float64) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	var rss float64
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			rss = kb / 1024
		}
	}
	return (ut + st) / 100, rss // clock ticks are 100 Hz on Linux
}

func readCredentials(path string) (string, string) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var id, secret string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	return id, secret
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}

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

func machine() map[string]any {
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	host, _ := os.Hostname()
	return map[string]any{"cpu": cpu, "host": host, "time": time.Now().UTC().Format(time.RFC3339)}
}
