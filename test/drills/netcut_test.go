package drills

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
)

// cutProxy forwards TCP connections to a target until it is cut: then it
// drops every open connection and every new one, as a network partition
// between an agent and the server would, until it is restored.
type cutProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	return p
}

func (p *cutProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

// track registers c unless the proxy is cut.
func (p *cutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *cutProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *cutProxy) forward(c net.Conn) {
	if !p.track(c) {
		c.Close()
		return
	}
	defer p.untrack(c)
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(up) {
		up.Close()
		c.Close()
		return
	}
	defer p.untrack(up)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
}

// setCut cuts (dropping every open connection) or restores the link.
func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
	}
}

// Drill 3: the network between a real agent and the server is cut in the
// middle of a deployment (the agent reaches the server through a proxy
// the test controls). A cut longer than the agent lease fails the
// instance's lifecycle event with AGENT_ISSUE and the deployment fails
// (OneAtATime: no instance may fail); a cut shorter than the lease is
// ridden out and the deployment succeeds.
func TestDrillAgentNetworkCut(t *testing.T) {
	t.Parallel()
	const lease = 6 * time.Second
	root := t.TempDir()
	s := newServer(t, filepath.Join(root, "data"), "--agent-lease", lease.String())
	cd := s.cd(3)
	ctx := context.Background()
	proxy := newCutProxy(t, s.addr)
	a := newAgent(t, s, "cut-a", proxy.url(), 2*time.Second)
	newAgent(t, s, "cut-b", "", 2*time.Second)
	deployGroup(t, cd, "cutapp", "fleet", "CodeDeployDefault.OneAtATime", "cut-a", "cut-b")

	deploy := func(version string) string {
		sleep := "1"
		if version == "slow" {
			sleep = fmt.Sprint(int(lease/time.Second) + 3)
		}
		rev := pushBundle(t, s, "cutapp", writeTree(t, appBundle(version, sleep)), "drill-bundles/cut-"+version+".zip")
		out, err := cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("cutapp"),
			DeploymentGroupName: aws.String("fleet"), Revision: rev})
		if err != nil {
			t.Fatalf("CreateDeployment: %v", err)
		}
		return aws.ToString(out.DeploymentId)
	}
	// cutDuring cuts cut-a's link for d once its ApplicationStart hook of
	// deployment id has started.
	cutDuring := func(id string, d time.Duration) {
		eventually(t, 60*time.Second, "cut-a's ApplicationStart hook of "+id, func() (bool, string) {
			_, err := os.Stat(filepath.Join(a.install, "started-"+id))
			return err == nil, fmt.Sprint(err)
		})
		proxy.setCut(true)
		time.Sleep(d)
		proxy.setCut(false)
	}

	// No cut, but a hook that runs longer than the lease: the agent is
	// alive, so the deployment succeeds.
	slow := deploy("slow")
	if d := waitDeployment(t, cd, slow, 60*time.Second); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Errorf("deployment with a hook longer than the agent lease: %s (%+v)\n%s", d.Status, d.ErrorInformation, describeInstances(t, cd, slow))
	}

	// Shorter than the lease: the agent's report waits out the cut.
	short := deploy("short")
	cutDuring(short, lease/3)
	if d := waitDeployment(t, cd, short, 60*time.Second); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Errorf("deployment with a %s cut: %s (%+v)\n%s", lease/3, d.Status, d.ErrorInformation, describeInstances(t, cd, short))
	}

	// Longer than the lease: AGENT_ISSUE, and the deployment fails.
	long := deploy("long")
	cutDuring(long, 2*lease)
	d := waitDeployment(t, cd, long, 60*time.Second)
	desc := describeInstances(t, cd, long)
	if d.Status != cdtypes.DeploymentStatusFailed {
		t.Fatalf("deployment with a %s cut: %s, want Failed\n%s", 2*lease, d.Status, desc)
	}
	out, err := cd.GetDeploymentInstance(ctx, &codedeploy.GetDeploymentInstanceInput{DeploymentId: aws.String(long), InstanceId: aws.String("cut-a")})
	if err != nil {
		t.Fatal(err)
	}
	var failed *cdtypes.LifecycleEvent
	for i, e := range out.InstanceSummary.LifecycleEvents {
		if e.Status == cdtypes.LifecycleEventStatusFailed {
			failed = &out.InstanceSummary.LifecycleEvents[i]
		}
	}
	if out.InstanceSummary.Status != cdtypes.InstanceStatusFailed || failed == nil || failed.Diagnostics == nil ||
		!strings.Contains(aws.ToString(failed.Diagnostics.Message), "AGENT_ISSUE") {
		t.Errorf("cut-a after a %s cut: want its event Failed with AGENT_ISSUE\n%s", 2*lease, desc)
	}
	t.Logf("long cut: %s", desc)

	// The agent is back: a deployment after the cut succeeds.
	after := deploy("after")
	if d := waitDeployment(t, cd, after, 60*time.Second); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Errorf("deployment after the cut: %s\n%s", d.Status, describeInstances(t, cd, after))
	}
}
