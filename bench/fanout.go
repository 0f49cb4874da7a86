package main

// B4 fan-out: one deployment of a 10 MB bundle with no-op hooks to N
// in-process agents, AllAtOnce and OneAtATime. B7: the same bundle and
// hooks deployed to N local directories with ansible-playbook, timed in
// the same run.

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// bundleData is the size of the bundle's payload (random, so the zip is
// as large).
const bundleData = 10 << 20

// lifecycleHooks are the hooks of the bench AppSpec file, in order.
var lifecycleHooks = []string{"ApplicationStop", "BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService"}

const noopHook = "#!/bin/sh\nexit 0\n"

// benchAppspec installs app/ to /opt/app and runs the no-op hook at every
// lifecycle event.
func benchAppspec() string {
	var b strings.Builder
	b.WriteString("version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /opt/app\nhooks:\n")
	for _, h := range lifecycleHooks {
		fmt.Fprintf(&b, "  %s:\n    - location: scripts/hook.sh\n      timeout: 60\n", h)
	}
	return b.String()
}

// makeBundle returns a zip of appspec.yml, scripts/hook.sh and app/ with
// a payload of size bytes.
func makeBundle(size int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, mode os.FileMode, data []byte) {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()}
		if len(data) > 1<<20 {
			h.Method = zip.Store // random data does not compress
		}
		h.SetMode(mode)
		w := must(zw.CreateHeader(h))
		must(w.Write(data))
	}
	payload := make([]byte, size)
	_, _ = rand.Read(payload)
	add("appspec.yml", 0o644, []byte(benchAppspec()))
	add("scripts/hook.sh", 0o755, []byte(noopHook))
	add("app/index.html", 0o644, []byte("bench\n"))
	add("app/data.bin", 0o644, payload)
	must(0, zw.Close())
	return buf.Bytes()
}

// uploadRevision uploads a bundle and registers it with the application.
func uploadRevision(ctx context.Context, s *server, app, key string, data []byte) *cdtypes.RevisionLocation {
	up := must(s.ext.UploadBundle(ctx, &slipwayapi.UploadBundleInput{Bucket: "bench-bundles", Key: key, Content: base64.StdEncoding.EncodeToString(data)}))
	rev := &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: &cdtypes.S3Location{
		Bucket: aws.String("bench-bundles"), Key: aws.String(key), BundleType: cdtypes.BundleTypeZip, ETag: aws.String(up.ETag)}}
	must(s.cd.RegisterApplicationRevision(ctx, &codedeploy.RegisterApplicationRevisionInput{ApplicationName: aws.String(app), Revision: rev}))
	return rev
}

// createGroup makes a deployment group of the instances tagged key=yes.
func createGroup(ctx context.Context, s *server, app, group, tagKey, config string) {
	must(s.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group),
		ServiceRoleArn:       aws.String("arn:aws:iam::123456789012:role/bench"),
		DeploymentConfigName: aws.String(config),
		OnPremisesInstanceTagFilters: []cdtypes.TagFilter{{Key: aws.String(tagKey), Value: aws.String("yes"),
			Type: cdtypes.TagFilterTypeKeyAndValue}}}))
}

// deployAndWait creates a deployment and waits for it to end; it returns
// the time to the end and the deployment.
func deployAndWait(ctx context.Context, s *server, app, group, config string, rev *cdtypes.RevisionLocation) (time.Duration, *cdtypes.DeploymentInfo) {
	start := time.Now()
	out := must(s.cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String(app),
		DeploymentGroupName: aws.String(group), DeploymentConfigName: aws.String(config), Revision: rev,
		FileExistsBehavior: cdtypes.FileExistsBehaviorOverwrite}))
	id := aws.ToString(out.DeploymentId)
	for {
		d := must(s.cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})).DeploymentInfo
		switch d.Status {
		case cdtypes.DeploymentStatusSucceeded, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
			return time.Since(start), d
		}
		if time.Since(start) > 30*time.Minute {
			fatalf("deployment %s did not end in 30 minutes", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deploymentFailure describes why a deployment did not succeed.
func deploymentFailure(d *cdtypes.DeploymentInfo) string {
	msg := string(d.Status)
	if d.ErrorInformation != nil {
		msg += ": " + aws.ToString(d.ErrorInformation.Message)
	}
	if o := d.DeploymentOverview; o != nil {
		msg += fmt.Sprintf(" (succeeded %d, failed %d, pending %d)", o.Succeeded, o.Failed, o.Pending)
	}
	return msg
}

// hookTime measures how long the no-op hook script itself takes to run.
func hookTime(dir string) time.Duration {
	p := filepath.Join(dir, "hook.sh")
	must(0, os.WriteFile(p, []byte(noopHook), 0o755))
	const n = 30
	start := time.Now()
	for range n {
		must(0, exec.Command(p).Run())
	}
	return time.Since(start) / n
}

// b4 runs the fan-out deployments at each size (when fanout is set) and
// B7 at the sizes in ansibleAt.
func b4(ctx context.Context, s *server, hostCounts []int, oneAtATimeMax int, fanout bool, ansibleAt []int) []result {
	hostCounts = slices.Sorted(slices.Values(hostCounts))
	maxN := hostCounts[len(hostCounts)-1]
	dir := must(os.MkdirTemp("", "slipway-bench-b4-"))
	defer os.RemoveAll(dir)
	bundle := makeBundle(bundleData)
	bundlePath := filepath.Join(dir, "bundle.zip")
	must(0, os.WriteFile(bundlePath, bundle, 0o644))
	var rs []result
	var f *fleet
	var rev *cdtypes.RevisionLocation
	if fanout {
		// Instances 0..9 carry size10, size100, ...; 10..99 size100, ...
		progress("B4: enrolling %d instances", maxN)
		var insts []enrolled
		prev := 0
		for i, n := range hostCounts {
			tags := map[string]string{}
			for _, m := range hostCounts[i:] {
				tags[fmt.Sprintf("size%d", m)] = "yes"
			}
			insts = append(insts, enroll(ctx, s, fmt.Sprintf("b4-%d", n), n-prev, tags)...)
			prev = n
		}
		f = startFleet(ctx, insts, filepath.Join(dir, "hosts"))
		defer f.stop()
		must(s.cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("fanout")}))
		rev = uploadRevision(ctx, s, "fanout", "bundle.zip", bundle)
		for _, n := range hostCounts {
			createGroup(ctx, s, "fanout", fmt.Sprintf("hosts-%d", n), fmt.Sprintf("size%d", n), "CodeDeployDefault.AllAtOnce")
		}
		time.Sleep(2 * time.Second) // let every agent reach its long poll
	}
	hook := hookTime(dir)
	for _, n := range hostCounts {
		group := fmt.Sprintf("hosts-%d", n)
		var allAtOnce time.Duration
		if fanout {
			progress("B4: AllAtOnce to %d hosts", n)
			before := f.downloaded.Load()
			srv0, _ := s.usage()
			self0, _ := procUsage(os.Getpid())
			took, d := deployAndWait(ctx, s, "fanout", group, "CodeDeployDefault.AllAtOnce", rev)
			bytes := f.downloaded.Load() - before
			srv1, _ := s.usage()
			self1, _ := procUsage(os.Getpid())
			cpu := fmt.Sprintf("CPU: server %.1f s, agents (bench process) %.1f s", srv1-srv0, self1-self0)
			if d.Status != cdtypes.DeploymentStatusSucceeded {
				rs = append(rs, missing("B4", fmt.Sprintf("AllAtOnce, %d hosts: CreateDeployment to Succeeded", n), deploymentFailure(d)))
			} else {
				allAtOnce = took
				_, _, events := hostTimeline(ctx, s, aws.ToString(d.DeploymentId))
				rs = append(rs,
					single("B4", fmt.Sprintf("AllAtOnce, %d hosts: CreateDeployment to Succeeded", n), "s", took.Seconds(),
						fmt.Sprintf("%.1f ms per host; %s; %s; %s", ms(took)/float64(n), checkInstalled(f, n), cpu, events)),
					single("B4", fmt.Sprintf("AllAtOnce, %d hosts: bundle bytes downloaded", n), "MB", float64(bytes)/1e6,
						fmt.Sprintf("%.1f MB per host (agents' downloads; the bundle is %.1f MB)", float64(bytes)/1e6/float64(n), float64(len(bundle))/1e6)))
			}
			f.dropBundles(aws.ToString(d.DeploymentId))
		}
		switch {
		case slices.Contains(ansibleAt, n):
			progress("B7: ansible-playbook to %d hosts", n)
			rs = append(rs, b7(dir, bundlePath, n, allAtOnce))
		case len(ansibleAt) > 0:
			rs = append(rs, missing("B7", fmt.Sprintf("Ansible, %d hosts: ansible-playbook run", n),
				fmt.Sprintf("not run at %d hosts (this size runs B7 at %v only: Ansible's time grows about linearly with hosts on 2 cores)", n, ansibleAt)))
		}
		if fanout && n <= oneAtATimeMax {
			progress("B4: OneAtATime to %d hosts", n)
			took, d := deployAndWait(ctx, s, "fanout", group, "CodeDeployDefault.OneAtATime", rev)
			if d.Status != cdtypes.DeploymentStatusSucceeded {
				rs = append(rs, missing("B4", fmt.Sprintf("OneAtATime, %d hosts: CreateDeployment to Succeeded", n), deploymentFailure(d)))
			} else {
				hooks := time.Duration(n*len(lifecycleHooks)) * hook
				rs = append(rs,
					single("B4", fmt.Sprintf("OneAtATime, %d hosts: CreateDeployment to Succeeded", n), "s", took.Seconds(), ""),
					single("B4", fmt.Sprintf("OneAtATime, %d hosts: per-host overhead", n), "ms", ms(took-hooks)/float64(n),
						fmt.Sprintf("(total - hooks' own time)/N; a no-op hook run takes %.1f ms here, %d hooks per host", ms(hook), len(lifecycleHooks))))
				spans, gaps, events := hostTimeline(ctx, s, aws.ToString(d.DeploymentId))
				rs = append(rs,
					summarize("B4", fmt.Sprintf("OneAtATime, %d hosts: one host's lifecycle events", n), "ms", spans,
						"first event's start to last event's end on one host (server times); "+events),
					summarize("B4", fmt.Sprintf("OneAtATime, %d hosts: hand-over between hosts", n), "ms", gaps,
						"one host's last event's end to the next host's first event's start"))
			}
			f.dropBundles(aws.ToString(d.DeploymentId))
		}
	}
	return rs
}

// checkInstalled confirms the first n agents hold the installed payload.
func checkInstalled(f *fleet, n int) string {
	bad := 0
	for _, a := range f.agents[:n] {
		fi, err := os.Stat(filepath.Join(a.install, "opt", "app", "data.bin"))
		if err != nil || fi.Size() != bundleData {
			bad++
		}
	}
	if bad > 0 {
		fatalf("B4: %d of %d hosts do not hold the installed payload", bad, n)
	}
	return fmt.Sprintf("payload checked on all %d hosts", n)
}

// dropBundles deletes the downloaded bundle files of a finished
// deployment (the agents keep the unpacked archive), to spare the disk.
func (f *fleet) dropBundles(deploymentID string) {
	for _, a := range f.agents {
		matches, _ := filepath.Glob(filepath.Join(a.root, "*", deploymentID, "bundle.tar"))
		for _, m := range matches {
			os.Remove(m)
		}
	}
}

// ansibleForksMax bounds Ansible's forks: every fork is a Python process
// and runs a Python module process per task.
const ansibleForksMax = 100

// b7 deploys the bundle to n local directories with ansible-playbook:
// unarchive into each host's directory, then the no-op hook at every
// lifecycle event, each host a connection=local alias.
func b7(dir, bundlePath string, n int, slipway time.Duration) result {
	metric := fmt.Sprintf("Ansible, %d hosts: ansible-playbook run", n)
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		return missing("B7", metric, "ansible-playbook not installed")
	}
	work := filepath.Join(dir, fmt.Sprintf("ansible-%d", n))
	must(0, os.MkdirAll(work, 0o755))
	var inv strings.Builder
	inv.WriteString("[hosts]\n")
	for i := range n {
		fmt.Fprintf(&inv, "host-%05d target=%s\n", i, filepath.Join(work, "targets", fmt.Sprintf("host-%05d", i)))
	}
	inv.WriteString("[hosts:vars]\nansible_connection=local\nansible_python_interpreter=/usr/bin/python3\n")
	hooks := "[" + strings.Join(lifecycleHooks, ", ") + "]"
	playbook := `- hosts: hosts
  gather_facts: false
  tasks:
    - name: target directory
      ansible.builtin.file:
        path: "{{ target }}/opt/app"
        state: directory
    - name: unpack the bundle
      ansible.builtin.unarchive:
        src: ` + bundlePath + `
        dest: "{{ target }}/opt/app"
    - name: lifecycle hooks
      ansible.builtin.command: "{{ target }}/opt/app/scripts/hook.sh"
      environment:
        LIFECYCLE_EVENT: "{{ item }}"
      loop: ` + hooks + "\n"
	forks := min(n, ansibleForksMax)
	cfg := fmt.Sprintf("[defaults]\nforks = %d\nhost_key_checking = False\nretry_files_enabled = False\ninterpreter_python = /usr/bin/python3\n", forks)
	must(0, os.WriteFile(filepath.Join(work, "inventory.ini"), []byte(inv.String()), 0o644))
	must(0, os.WriteFile(filepath.Join(work, "deploy.yml"), []byte(playbook), 0o644))
	must(0, os.WriteFile(filepath.Join(work, "ansible.cfg"), []byte(cfg), 0o644))
	cmd := exec.Command(bin, "-i", "inventory.ini", "deploy.yml")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "ANSIBLE_CONFIG="+filepath.Join(work, "ansible.cfg"), "ANSIBLE_LOCAL_TEMP="+filepath.Join(work, "tmp"),
		"ANSIBLE_HOME="+filepath.Join(work, "home"), "ANSIBLE_NOCOLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	if err != nil {
		tail := out.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return missing("B7", metric, fmt.Sprintf("ansible-playbook failed: %v\n%s", err, tail))
	}
	for i := range n {
		fi, err := os.Stat(filepath.Join(work, "targets", fmt.Sprintf("host-%05d", i), "opt", "app", "app", "data.bin"))
		if err != nil || fi.Size() != bundleData {
			return missing("B7", metric, fmt.Sprintf("ansible-playbook succeeded but host %d lacks the payload", i))
		}
	}
	os.RemoveAll(filepath.Join(work, "targets"))
	r := single("B7", metric, "s", took.Seconds(), fmt.Sprintf("forks=%d; the bundle unpacked into each host's directory, then 5 hook runs per host", forks))
	if slipway > 0 {
		r.Ratio = slipway.Seconds() / took.Seconds()
		r.Note += fmt.Sprintf("; ratio = Slipway AllAtOnce (%.1f s) / Ansible", slipway.Seconds())
	}
	return r
}

// hostTimeline splits a OneAtATime deployment's time: for each host, the
// span from its first lifecycle event's start to its last one's end, and
// the gap from one host's end to the next host's start (server times).
func hostTimeline(ctx context.Context, s *server, deploymentID string) (spans, gaps []float64, events string) {
	var ids []string
	var token *string
	for {
		out := must(s.cd.ListDeploymentInstances(ctx, &codedeploy.ListDeploymentInstancesInput{DeploymentId: aws.String(deploymentID), NextToken: token}))
		ids = append(ids, out.InstancesList...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	type span struct{ start, end time.Time }
	var hosts []span
	perEvent := map[string][]float64{}
	var order []string
	for lo := 0; lo < len(ids); lo += 25 {
		out := must(s.cd.BatchGetDeploymentInstances(ctx, &codedeploy.BatchGetDeploymentInstancesInput{DeploymentId: aws.String(deploymentID),
			InstanceIds: ids[lo:min(len(ids), lo+25)]}))
		for _, in := range out.InstancesSummary {
			var sp span
			for _, e := range in.LifecycleEvents {
				if e.StartTime != nil && (sp.start.IsZero() || e.StartTime.Before(sp.start)) {
					sp.start = *e.StartTime
				}
				if e.EndTime != nil && e.EndTime.After(sp.end) {
					sp.end = *e.EndTime
				}
				if e.StartTime != nil && e.EndTime != nil {
					name := aws.ToString(e.LifecycleEventName)
					if _, ok := perEvent[name]; !ok {
						order = append(order, name)
					}
					perEvent[name] = append(perEvent[name], ms(e.EndTime.Sub(*e.StartTime)))
				}
			}
			if !sp.start.IsZero() && !sp.end.IsZero() {
				hosts = append(hosts, sp)
			}
		}
	}
	slices.SortFunc(hosts, func(a, b span) int { return a.start.Compare(b.start) })
	for i, h := range hosts {
		spans = append(spans, ms(h.end.Sub(h.start)))
		if i > 0 {
			gaps = append(gaps, ms(h.start.Sub(hosts[i-1].end)))
		}
	}
	var parts []string
	for _, name := range order {
		parts = append(parts, fmt.Sprintf("%s %.0f", name, summarize("", "", "", perEvent[name], "").Median))
	}
	return spans, gaps, "median ms per event: " + strings.Join(parts, ", ")
}
