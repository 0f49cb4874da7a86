package main

// B5 idle cost: the server's CPU and RSS while M idle agents long-poll it,
// and a real slipway-agent process's RSS and CPU when idle and during a
// deployment.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/slipway-cd/slipway/internal/agent"
)

// agentProc is a slipway-agent process.
type agentProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startAgentProc writes an instance's configuration under dir and starts
// slipway-agent with it.
func startAgentProc(in enrolled, dir string) *agentProc {
	cfg := must(agent.RegistrationConfig(&agent.Registration{Endpoint: in.cfg.Endpoint, Region: in.cfg.Region,
		AccessKeyID: in.cfg.AccessKeyID, SecretAccessKey: in.cfg.SecretAccessKey, IAMUserARN: in.cfg.IAMUserARN,
		InstanceName: in.name, RootDir: filepath.Join(dir, "root"), LogDir: filepath.Join(dir, "log")}))
	path := filepath.Join(dir, "agent.yml")
	must(0, os.MkdirAll(filepath.Join(dir, "install"), 0o755))
	must(0, os.WriteFile(path, cfg, 0o600))
	p := &agentProc{cmd: exec.Command(build().agent, "--config", path, "--install-root", filepath.Join(dir, "install")), done: make(chan struct{})}
	logf := must(os.Create(filepath.Join(dir, "agent.out")))
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	must(0, p.cmd.Start())
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.done) }()
	return p
}

func (p *agentProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func b5(ctx context.Context, s *server, m int, window time.Duration) []result {
	dir := must(os.MkdirTemp("", "slipway-bench-b5-"))
	defer os.RemoveAll(dir)
	cpu0, rss0 := s.usage()
	progress("B5: enrolling %d idle instances and one for a real agent", m)
	idle := enroll(ctx, s, "idle", m, map[string]string{"role": "idle"})
	real := enroll(ctx, s, "real", 1, map[string]string{"role": "real"})[0]
	cpu1, rss1 := s.usage()
	ap := startAgentProc(real, filepath.Join(dir, "agent"))
	defer ap.stop()
	progress("B5: starting %d pollers", m)
	p := startPollers(ctx, idle)
	// Every poller's first poll is spread over 5 s; then let the load
	// settle for one long poll (20 s) before sampling.
	time.Sleep(25 * time.Second)
	progress("B5: sampling for %s", window)
	sCPU0, _ := s.usage()
	aCPU0, _ := procUsage(ap.cmd.Process.Pid)
	polls0, errs0 := p.polls.Load(), p.errors.Load()
	start := time.Now()
	var sRSS, aRSS []float64
	for time.Since(start) < window {
		time.Sleep(time.Second)
		_, r := s.usage()
		sRSS = append(sRSS, r)
		_, a := procUsage(ap.cmd.Process.Pid)
		aRSS = append(aRSS, a)
	}
	elapsed := time.Since(start).Seconds()
	sCPU1, _ := s.usage()
	aCPU1, _ := procUsage(ap.cmd.Process.Pid)
	polls, errs := p.polls.Load()-polls0, p.errors.Load()-errs0
	p.stop()
	rs := []result{
		single("B5", fmt.Sprintf("server CPU, %d idle agents long-polling", m), "cores", (sCPU1-sCPU0)/elapsed,
			fmt.Sprintf("%.0f polls/s answered (%d errors) over %.0f s; long poll 20 s, then 1 s between polls", float64(polls)/elapsed, errs, elapsed)),
		summarize("B5", fmt.Sprintf("server RSS, %d idle agents long-polling", m), "MiB", sRSS,
			fmt.Sprintf("%.0f MiB before enrolling, %.0f MiB after (%.1f CPU-s to enroll %d)", rss0, rss1, cpu1-cpu0, m)),
		single("B5", "slipway-agent CPU, idle", "cores", (aCPU1-aCPU0)/elapsed, ""),
		summarize("B5", "slipway-agent RSS, idle", "MiB", aRSS, ""),
	}

	// The real agent during a deployment of the 10 MB bundle.
	progress("B5: a deployment to the real agent")
	must(s.cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("idle")}))
	rev := uploadRevision(ctx, s, "idle", "bundle.zip", makeBundle(bundleData))
	must(s.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName: aws.String("idle"), DeploymentGroupName: aws.String("real"),
		ServiceRoleArn: aws.String("arn:aws:iam::123456789012:role/bench"),
		OnPremisesInstanceTagFilters: []cdtypes.TagFilter{{Key: aws.String("role"), Value: aws.String("real"),
			Type: cdtypes.TagFilterTypeKeyAndValue}}}))
	dCPU0, _ := procUsage(ap.cmd.Process.Pid)
	kids0 := childrenCPU(ap.cmd.Process.Pid)
	var during []float64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
				_, r := procUsage(ap.cmd.Process.Pid)
				during = append(during, r)
			}
		}
	}()
	took, d := deployAndWait(ctx, s, "idle", "real", "CodeDeployDefault.AllAtOnce", rev)
	close(stopSampling)
	<-sampled
	dCPU1, _ := procUsage(ap.cmd.Process.Pid)
	kids := childrenCPU(ap.cmd.Process.Pid) - kids0
	if d.Status != cdtypes.DeploymentStatusSucceeded {
		return append(rs, missing("B5", "slipway-agent during a deployment", deploymentFailure(d)))
	}
	if fi, err := os.Stat(filepath.Join(dir, "agent", "install", "opt", "app", "data.bin")); err != nil || fi.Size() != bundleData {
		fatalf("B5: the deployment succeeded but the agent's install root lacks the payload: %v", err)
	}
	return append(rs,
		single("B5", "slipway-agent RSS during a deployment (peak)", "MiB", slices.Max(during),
			fmt.Sprintf("10 MB bundle, 5 no-op hooks; deployment took %.1f s; sampled every 20 ms", took.Seconds())),
		single("B5", "slipway-agent CPU during a deployment", "cpu-s", dCPU1-dCPU0, fmt.Sprintf("user+system seconds of the agent process for the whole deployment; its hook processes took %.2f s more", kids)),
	)
}
