package main

// An in-process fleet of host agents: each one an internal/agent Agent with
// its own instance, access key, deployment root and install root, polling
// the server over real HTTP (SigV4, long polls, bundle downloads). They
// share one HTTP transport so a thousand of them stay light.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/slipway-cd/slipway/internal/agent"
	"github.com/slipway-cd/slipway/internal/cdcmdapi"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// enrolled is an instance registered through POST /enroll.
type enrolled struct {
	name string
	cfg  *agent.Config
	raw  string // the configuration file the server sent
}

// enroll registers n instances named prefix-00000... through the
// enrollment endpoint, each with the tags, and returns their agent
// configurations.
func enroll(ctx context.Context, s *server, prefix string, n int, tags map[string]string) []enrolled {
	var ts []slipwayapi.EnrollmentTag
	for k, v := range tags {
		ts = append(ts, slipwayapi.EnrollmentTag{Key: k, Value: v})
	}
	out := make([]enrolled, n)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for lo := 0; lo < n; lo += slipwayapi.MaxEnrollmentMaxUses {
		hi := min(n, lo+slipwayapi.MaxEnrollmentMaxUses)
		tok := must(s.ext.CreateEnrollmentToken(ctx, &slipwayapi.CreateEnrollmentTokenInput{Tags: ts, MaxUses: int64(hi - lo), ExpiresInSeconds: 3600}))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i := lo; i < hi; i++ {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				name := fmt.Sprintf("%s-%05d", prefix, i)
				body, _ := json.Marshal(&slipwayapi.EnrollRequest{Token: tok.Token, InstanceName: name})
				var resp *http.Response
				var err error
				for try := 0; try < 5; try++ {
					resp, err = hc.Post(s.url+slipwayapi.EnrollPath, "application/json", bytes.NewReader(body))
					if err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if err != nil {
					fatalf("enroll %s: %v", name, err)
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					fatalf("enroll %s: %s: %s", name, resp.Status, data)
				}
				var er slipwayapi.EnrollResponse
				if err := json.Unmarshal(data, &er); err != nil {
					fatalf("enroll %s: %v", name, err)
				}
				cfg, err := agent.ParseConfig([]byte(er.Config))
				if err != nil {
					fatalf("enroll %s: the configuration the server sent: %v", name, err)
				}
				out[i] = enrolled{name: name, cfg: cfg, raw: er.Config}
			})
			if i > lo && i%500 == 0 {
				progress("  enrolled %d of %d", i, n)
			}
		}
		wg.Wait()
	}
	return out
}

// fleet is a set of in-process agents.
type fleet struct {
	agents     []*fleetAgent
	downloaded atomic.Int64 // bundle bytes the agents received
	transport  *http.Transport
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

// fleetAgent is one agent of a fleet.
type fleetAgent struct {
	name    string
	root    string // deployment root
	install string // install root (the host's target directory)
	agent   *agent.Agent
}

// startFleet starts an agent for each instance, with its directories
// under dir.
func startFleet(ctx context.Context, insts []enrolled, dir string) *fleet {
	f := &fleet{transport: &http.Transport{MaxIdleConnsPerHost: len(insts) + 16, IdleConnTimeout: 2 * time.Minute,
		ResponseHeaderTimeout: agent.DefaultHTTPReadTimeout}}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	api := &http.Client{Transport: f.transport, Timeout: agent.DefaultHTTPReadTimeout + 10*time.Second}
	dl := &http.Client{Transport: countingTransport{f.transport, &f.downloaded}}
	for _, in := range insts {
		cfg := in.cfg
		base := filepath.Join(dir, in.name)
		cfg.RootDir, cfg.LogDir, cfg.InstallRoot = filepath.Join(base, "root"), filepath.Join(base, "log"), filepath.Join(base, "install")
		cfg.MaxRevisions = 1
		off := false
		cfg.EnableDeploymentsLog = &off
		for _, d := range []string{cfg.RootDir, cfg.InstallRoot} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				fatalf("agent directories: %v", err)
			}
		}
		client := &agent.Client{Endpoint: cfg.Endpoint, Region: cfg.Region, HTTP: api, Download: dl,
			Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")}
		x := &agent.Executor{Root: cfg.RootDir, InstallRoot: cfg.InstallRoot, MaxRevisions: cfg.MaxRevisions,
			Fetcher: client, Logger: logger}
		a := &agent.Agent{Service: client, Executor: x, HostID: cfg.HostID(),
			TrackingDir:     filepath.Join(cfg.RootDir, cfg.OngoingDeploymentTracking),
			WaitBetweenRuns: cfg.WaitBetweenRuns.D(), MaxBackoff: 5 * time.Second, ShutdownGrace: 5 * time.Second, Logger: logger}
		f.agents = append(f.agents, &fleetAgent{name: in.name, root: cfg.RootDir, install: cfg.InstallRoot, agent: a})
	}
	rctx, cancel := context.WithCancel(ctx)
	f.cancel = cancel
	for _, a := range f.agents {
		f.wg.Go(func() { _ = a.agent.Run(rctx) })
	}
	return f
}

func (f *fleet) stop() {
	f.cancel()
	f.wg.Wait()
	f.transport.CloseIdleConnections()
}

// countingTransport counts the response body bytes read through it.
type countingTransport struct {
	rt http.RoundTripper
	n  *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(r)
	if err == nil {
		resp.Body = &countingBody{resp.Body, t.n}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// pollers are light idle agents: each long-polls PollHostCommand for its
// own instance over real HTTP and waits wait_between_runs after an empty
// answer, as an idle agent does, but never executes anything.
type pollers struct {
	polls     atomic.Int64
	errors    atomic.Int64
	transport *http.Transport
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

func startPollers(ctx context.Context, insts []enrolled) *pollers {
	p := &pollers{transport: &http.Transport{MaxIdleConnsPerHost: len(insts) + 16, IdleConnTimeout: 2 * time.Minute}}
	hc := &http.Client{Transport: p.transport, Timeout: agent.DefaultHTTPReadTimeout + 10*time.Second}
	rctx, cancel := context.WithCancel(ctx)
	p.cancel = cancel
	for i, in := range insts {
		cfg := in.cfg
		c := &agent.Client{Endpoint: cfg.Endpoint, Region: cfg.Region, HTTP: hc,
			Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")}
		host := cfg.HostID()
		p.wg.Go(func() {
			// Spread the first polls over a few seconds, as agents
			// started at different times would be.
			sleepCtx(rctx, time.Duration(i%5000)*time.Millisecond)
			for rctx.Err() == nil {
				out, err := c.PollHostCommand(rctx, &cdcmdapi.PollHostCommandInput{HostIdentifier: host})
				if rctx.Err() != nil {
					return
				}
				p.polls.Add(1)
				if err != nil {
					p.errors.Add(1)
					sleepCtx(rctx, 5*time.Second)
					continue
				}
				if out.HostCommand != nil {
					fatalf("an idle poller was handed command %s", out.HostCommand.CommandName)
				}
				sleepCtx(rctx, agent.DefaultWaitBetweenRuns)
			}
		})
	}
	return p
}

func (p *pollers) stop() {
	p.cancel()
	p.wg.Wait()
	p.transport.CloseIdleConnections()
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// fatalf ends the run with a message.
func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}
