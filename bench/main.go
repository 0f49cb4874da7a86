// Command bench measures Slipway: it builds the slipway and slipway-agent
// binaries, runs servers on fresh data directories and drives them through
// the AWS SDK, git and real host agents, then prints a table of figures
// (median, p95, max, and a ratio where a scenario compares) and writes
// them as JSON. Progress goes to stderr.
//
//	go run ./bench                 # the small default sizes (under 10 minutes)
//	go run ./bench -full           # the full sizes of docs/benchmarks.md
//	go run ./bench -only B1,B4 -json results.json
//	go run ./bench -database postgres://...   # B1, B2, B4 also on PostgreSQL
//
// Scenarios (docs/benchmarks.md describes each):
//
//	B1 orchestration overhead of a 3-stage pipeline of no-op custom actions.
//	B2 throughput: action completions per second over many pipelines.
//	B3 trigger latency: git push (hosted repository) and polling (a
//	   connection to a local bare remote) until the next action starts.
//	B4 fan-out: one deployment of a 10 MB bundle to N in-process agents,
//	   AllAtOnce and OneAtATime.
//	B5 idle cost: the server with M idle long-polling agents; a real
//	   slipway-agent process idle and during a deployment.
//	B6 the same work by hand: a shell script against a pipeline doing
//	   the same git archive, build and copy to N hosts.
//	B7 Ansible: the B4 bundle and hooks deployed to N local directories
//	   with ansible-playbook, timed in the same run as B4.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	full := flag.Bool("full", false, "run the full sizes")
	only := flag.String("only", "", "run only these scenarios (comma-separated, e.g. B1,B4)")
	jsonOut := flag.String("json", "bench-results.json", "write the results here")
	database := flag.String("database", "", "PostgreSQL DSN: B1, B2 and B4 run on SQLite and again on a fresh database of this server")
	flag.Parse()

	sz := smallSizes
	if *full {
		sz = fullSizes
	}
	for _, name := range strings.Split(*only, ",") {
		if name != "" && !slices.Contains(allScenarios, strings.ToUpper(name)) {
			log.Fatalf("-only: unknown scenario %q (want some of %s)", name, strings.Join(allScenarios, ","))
		}
	}
	want := func(name string) bool {
		return *only == "" || slices.Contains(strings.Split(strings.ToUpper(*only), ","), name)
	}
	raiseFileLimit()
	defer func() {
		if bins.dir != "" {
			os.RemoveAll(bins.dir)
		}
	}()
	start := time.Now()
	ctx := context.Background()
	dbs := []string{""}
	if *database != "" {
		dbs = append(dbs, *database)
	}
	var results []result
	run := func(name, database string, f func(*server) []result, extra ...string) {
		progress("%s on %s", name, dbLabel(database))
		s := startServer(database, extra...)
		rs := f(s)
		s.stop()
		for i := range rs {
			rs[i].Database = dbLabel(database)
		}
		results = append(results, rs...)
	}
	for _, db := range dbs {
		if want("B1") {
			run("B1", db, func(s *server) []result { return b1(ctx, s, sz.b1Runs) })
		}
		if want("B2") {
			run("B2", db, func(s *server) []result { return b2(ctx, s, sz.b2Pipelines, sz.b2Duration, sz.b2Workers) })
		}
	}
	if want("B3") {
		run("B3", "", func(s *server) []result { return b3(ctx, s, sz.b3Pushes, sz.b3Polls) })
	}
	for _, db := range dbs {
		if want("B4") || (want("B7") && db == "") {
			run("B4/B7", db, func(s *server) []result {
				var ansibleAt []int
				if want("B7") && db == "" {
					ansibleAt = sz.b7Hosts
				}
				return b4(ctx, s, sz.b4Hosts, sz.b4OneAtATimeMax, want("B4"), ansibleAt)
			}, "--agent-lease", "5m")
		}
	}
	if want("B5") {
		run("B5", "", func(s *server) []result { return b5(ctx, s, sz.b5Pollers, sz.b5Window) })
	}
	if want("B6") {
		run("B6", "", func(s *server) []result { return b6(ctx, s, sz.b6Hosts, sz.b6Runs) }, "--agent-lease", "5m")
	}
	printTable(results)
	b, _ := json.MarshalIndent(map[string]any{"machine": machine(), "full": *full, "elapsed_seconds": time.Since(start).Seconds(),
		"database": cmp.Or(*database, "sqlite"), "results": results}, "", "  ")
	if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nwrote %s (%s in all)\n", *jsonOut, time.Since(start).Round(time.Second))
}

var allScenarios = []string{"B1", "B2", "B3", "B4", "B5", "B6", "B7"}

func dbLabel(database string) string {
	if database == "" {
		return "sqlite"
	}
	return "postgres"
}

// sizes are a run's parameters.
type sizes struct {
	b1Runs          int
	b2Pipelines     int
	b2Duration      time.Duration
	b2Workers       int
	b3Pushes        int   // push-triggered samples
	b3Polls         int   // poll-triggered samples (each waits up to the 1 min interval)
	b4Hosts         []int // fleet sizes
	b4OneAtATimeMax int   // OneAtATime runs only up to this many hosts
	b7Hosts         []int // the fleet sizes Ansible runs at
	b5Pollers       int
	b5Window        time.Duration
	b6Hosts         int
	b6Runs          int
}

var (
	smallSizes = sizes{b1Runs: 30, b2Pipelines: 100, b2Duration: 15 * time.Second, b2Workers: 8,
		b3Pushes: 10, b3Polls: 2, b4Hosts: []int{10, 100}, b4OneAtATimeMax: 100, b7Hosts: []int{10},
		b5Pollers: 1000, b5Window: 30 * time.Second, b6Hosts: 10, b6Runs: 2}
	fullSizes = sizes{b1Runs: 200, b2Pipelines: 1000, b2Duration: 60 * time.Second, b2Workers: 16,
		b3Pushes: 30, b3Polls: 5, b4Hosts: []int{10, 100, 1000}, b4OneAtATimeMax: 100, b7Hosts: []int{10, 100},
		b5Pollers: 10000, b5Window: 30 * time.Second, b6Hosts: 100, b6Runs: 3}
)

// raiseFileLimit lifts the open-file soft limit to the hard limit: B5
// holds one connection per idle agent on each side (the server process
// inherits the limit).
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		progress("cannot raise the open-file limit: %v", err)
	}
}

// result is one row of the table.
type result struct {
	Scenario string  `json:"scenario"`
	Database string  `json:"database"`
	Metric   string  `json:"metric"`
	Unit     string  `json:"unit"`
	N        int     `json:"n"`
	Median   float64 `json:"median"`
	P95      float64 `json:"p95"`
	Max      float64 `json:"max"`
	// Ratio compares the median with a baseline the note names (B6, B7).
	Ratio float64 `json:"ratio,omitempty"`
	Note  string  `json:"note,omitempty"`
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

// single is a row of one figure.
func single(scenario, metric, unit string, v float64, note string) result {
	return summarize(scenario, metric, unit, []float64{v}, note)
}

// missing is a row that could not be measured, and why.
func missing(scenario, metric, why string) result {
	return result{Scenario: scenario, Metric: metric, Note: why}
}

func printTable(rs []result) {
	fmt.Printf("\n%-4s %-8s %-52s %6s %10s %10s %10s %-9s %7s\n", "", "db", "metric", "n", "median", "p95", "max", "unit", "ratio")
	for _, r := range rs {
		ratio := ""
		if r.Ratio != 0 {
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		if r.N == 0 {
			fmt.Printf("%-4s %-8s %-52s %6s %10s %10s %10s %-9s %7s\n", r.Scenario, r.Database, r.Metric, "-", "-", "-", "-", r.Unit, ratio)
		} else {
			fmt.Printf("%-4s %-8s %-52s %6d %10.2f %10.2f %10.2f %-9s %7s\n", r.Scenario, r.Database, r.Metric, r.N, r.Median, r.P95, r.Max, r.Unit, ratio)
		}
		if r.Note != "" {
			fmt.Printf("     %s\n", r.Note)
		}
	}
}

func machine() map[string]any {
	cpu, mem := "", ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		mem = strings.Join(strings.Fields(strings.TrimPrefix(line, "MemTotal:")), " ")
	}
	host, _ := os.Hostname()
	return map[string]any{"cpu": cpu, "memory": mem, "host": host, "time": time.Now().UTC().Format(time.RFC3339)}
}
