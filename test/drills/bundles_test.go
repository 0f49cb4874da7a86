package drills

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// agentBundleLimit is the drill agent's max_bundle_bytes.
const agentBundleLimit = 64 << 20

// zipEntry is one entry of a hand-made zip.
type zipEntry struct {
	name    string
	mode    os.FileMode
	content string
}

func makeZip(t *testing.T, entries []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.content == "" {
			hdr.Method = zip.Store // a flate writer per entry is slow for many
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		hdr.SetMode(mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipBomb returns a zip whose entry bomb.bin inflates to size bytes of
// zeros (a multiple of 1 MiB) from about size/1000 compressed bytes; its
// header declares declared bytes (a lie when declared != size). The
// deflate stream repeats one sync-flushed block of 1 MiB of zeros.
func zipBomb(t *testing.T, files map[string]string, size, declared uint64) []byte {
	t.Helper()
	var chunk bytes.Buffer
	fw, _ := flate.NewWriter(&chunk, flate.BestCompression)
	if _, err := fw.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := fw.Flush(); err != nil { // ends on a byte boundary, not final
		t.Fatal(err)
	}
	stream := bytes.Repeat(chunk.Bytes(), int(size>>20))
	stream = append(stream, 0x03, 0x00) // an empty final block
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(content))
	}
	crc := crc32.NewIEEE()
	zeros := make([]byte, 1<<20)
	for range size >> 20 {
		crc.Write(zeros)
	}
	hdr := &zip.FileHeader{Name: "app/bomb.bin", Method: zip.Deflate, CRC32: crc.Sum32(),
		CompressedSize64: uint64(len(stream)), UncompressedSize64: declared}
	hdr.SetMode(0o644)
	w, err := zw.CreateRaw(hdr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(stream); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const plainAppspec = `version: 0.0
os: linux
files:
  - source: app
    destination: /opt/app
`

// Drill 5c: hostile bundles and AppSpec files, uploaded with UploadBundle
// and deployed to a real agent: zip bombs (honest and lying headers),
// path traversal, absolute paths, symlinks out, huge and many files, YAML
// bombs, recursive aliases, huge and binary AppSpec files. Each
// deployment fails in DownloadBundle with a message that names the
// problem; nothing is written outside the deployment root; the server and
// the agent stay up with bounded memory, and a good bundle deploys after
// all of them.
func TestDrillHostileBundles(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s := newServer(t, filepath.Join(root, "data"), "--agent-lease", "20s")
	cd, ext := s.cd(3), s.ext()
	ctx := context.Background()
	a := newAgent(t, s, "hostile", "", 2*time.Second)
	f, err := os.OpenFile(a.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "max_bundle_bytes: %d\n", agentBundleLimit)
	f.Close()
	_ = a.cmd.Process.Kill() // restart with the limit
	<-a.done
	a.start()
	deployGroup(t, cd, "hostileapp", "fleet", "CodeDeployDefault.OneAtATime", "hostile")

	outside := filepath.Join(root, "outside")
	corpus := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata/hostile/appspec", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	app := []zipEntry{{name: "appspec.yml", content: plainAppspec}, {name: "app/index.html", content: "hostile"}}
	with := func(extra ...zipEntry) []zipEntry { return append(append([]zipEntry{}, app...), extra...) }
	var many []zipEntry
	for i := range 100_001 {
		many = append(many, zipEntry{name: fmt.Sprintf("app/f%06d", i)})
	}
	cases := []struct {
		name   string
		bundle func() []byte
		want   string // in the failed event's message
	}{
		{"zip bomb, honest header", func() []byte {
			return zipBomb(t, map[string]string{"appspec.yml": plainAppspec}, 1<<30, 1<<30)
		}, "limit"},
		{"zip bomb, lying header", func() []byte {
			// archive/zip stops at the declared size.
			return zipBomb(t, map[string]string{"appspec.yml": plainAppspec}, 1<<30, 1000)
		}, "not a valid zip"},
		{"path traversal", func() []byte { return makeZip(t, with(zipEntry{name: "../../../outside/escape.txt", content: "x"})) }, "unsafe path"},
		{"absolute path", func() []byte { return makeZip(t, with(zipEntry{name: outside + "/abs.txt", content: "x"})) }, "unsafe path"},
		{"symlink out", func() []byte {
			return makeZip(t, with(zipEntry{name: "app/link", mode: os.ModeSymlink | 0o777, content: outside},
				zipEntry{name: "app/link/through.txt", content: "x"}))
		}, "symlink"},
		{"huge file", func() []byte {
			return zipBomb(t, map[string]string{"appspec.yml": plainAppspec}, 2*agentBundleLimit, 2*agentBundleLimit)
		}, "limit"},
		{"many files", func() []byte { return makeZip(t, with(many...)) }, "entries"},
		{"appspec billion laughs", func() []byte {
			return makeZip(t, []zipEntry{{name: "appspec.yml", content: corpus("billion-laughs.yml")}, app[1]})
		}, "appspec"},
		{"appspec alias hooks", func() []byte {
			return makeZip(t, []zipEntry{{name: "appspec.yml", content: corpus("alias-hooks.yml")}, app[1]})
		}, "appspec"},
		{"appspec recursive alias", func() []byte {
			return makeZip(t, []zipEntry{{name: "appspec.yml", content: corpus("recursive.yml")}, app[1]})
		}, "appspec"},
		{"appspec huge", func() []byte {
			return makeZip(t, []zipEntry{{name: "appspec.yml", content: plainAppspec + "#" + strings.Repeat("x", 4<<20) + "\n"}, app[1]})
		}, "appspec"},
		{"appspec binary", func() []byte {
			bin := make([]byte, 8192)
			for i := range bin {
				bin[i] = byte(i * 31)
			}
			return makeZip(t, []zipEntry{{name: "appspec.yml", content: string(bin)}, app[1]})
		}, "appspec"},
		{"not a zip", func() []byte { return bytes.Repeat([]byte("garbage "), 1000) }, "unpack"},
	}
	for i, c := range cases {
		began := time.Now()
		data := c.bundle()
		made := time.Since(began)
		key := fmt.Sprintf("hostile-%02d.zip", i)
		up, err := ext.UploadBundle(ctx, &slipwayapi.UploadBundleInput{Bucket: "drill-bundles", Key: key, Content: base64.StdEncoding.EncodeToString(data)})
		if err != nil {
			if code := slipwayapi.ErrorCode(err); code == "" || code == "InternalFailure" {
				t.Errorf("%s: UploadBundle: %v", c.name, err)
			} else {
				t.Logf("%s: refused at upload: %v", c.name, firstLine(err.Error()))
			}
			continue
		}
		rev := &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: &cdtypes.S3Location{
			Bucket: aws.String("drill-bundles"), Key: aws.String(key), BundleType: cdtypes.BundleTypeZip, ETag: aws.String(up.ETag)}}
		if _, err := cd.RegisterApplicationRevision(ctx, &codedeploy.RegisterApplicationRevisionInput{ApplicationName: aws.String("hostileapp"), Revision: rev}); err != nil {
			t.Fatalf("%s: RegisterApplicationRevision: %v", c.name, err)
		}
		out, err := cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("hostileapp"),
			DeploymentGroupName: aws.String("fleet"), Revision: rev})
		if err != nil {
			t.Errorf("%s: CreateDeployment: %v", c.name, err)
			continue
		}
		id := aws.ToString(out.DeploymentId)
		d := waitDeployment(t, cd, id, 90*time.Second)
		desc := describeInstances(t, cd, id)
		inst, err := cd.GetDeploymentInstance(ctx, &codedeploy.GetDeploymentInstanceInput{DeploymentId: aws.String(id), InstanceId: aws.String("hostile")})
		if err != nil {
			t.Fatal(err)
		}
		var failed *cdtypes.LifecycleEvent
		for j, e := range inst.InstanceSummary.LifecycleEvents {
			if e.Status == cdtypes.LifecycleEventStatusFailed {
				failed = &inst.InstanceSummary.LifecycleEvents[j]
			}
		}
		switch {
		case d.Status != cdtypes.DeploymentStatusFailed || failed == nil || failed.Diagnostics == nil:
			t.Errorf("%s: deployment %s, want Failed in DownloadBundle\n%s", c.name, d.Status, desc)
		case aws.ToString(failed.LifecycleEventName) != "DownloadBundle" ||
			!strings.Contains(strings.ToLower(aws.ToString(failed.Diagnostics.Message)), strings.ToLower(c.want)):
			t.Errorf("%s: failed event %s: %s; want DownloadBundle with %q in the message", c.name,
				aws.ToString(failed.LifecycleEventName), aws.ToString(failed.Diagnostics.Message), c.want)
		default:
			t.Logf("%s (%d bytes, made in %s, refused in %s): %s", c.name, len(data), made.Round(time.Millisecond),
				(time.Since(began) - made).Round(time.Millisecond), firstLine(aws.ToString(failed.Diagnostics.Message)))
		}
		checkRSS(t, s, c.name)
		if kib := procStatusKiB(t, a.cmd.Process.Pid, "VmRSS"); kib > rssBoundKiB {
			t.Errorf("agent RSS is %d MiB after %s, over %d MiB", kib>>10, c.name, rssBoundKiB>>10)
		}
		select {
		case <-a.done:
			t.Fatalf("the agent exited after %s", c.name)
		default:
		}
	}
	if entries, err := os.ReadDir(outside); err == nil && len(entries) > 0 {
		t.Errorf("hostile bundles wrote outside the deployment root: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(a.install, "opt", "app", "index.html")); err == nil {
		t.Errorf("a hostile bundle was installed")
	}
	if !s.healthy() {
		t.Fatalf("the server is not healthy after the hostile bundles:\n%s", s.tail())
	}
	// A good bundle still deploys.
	rev := pushBundle(t, s, "hostileapp", writeTree(t, appBundle("good", "0")), "drill-bundles/good.zip")
	out, err := cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("hostileapp"), DeploymentGroupName: aws.String("fleet"), Revision: rev})
	if err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}
	if d := waitDeployment(t, cd, aws.ToString(out.DeploymentId), 60*time.Second); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Errorf("the good bundle after the hostile ones: %s\n%s", d.Status, describeInstances(t, cd, aws.ToString(out.DeploymentId)))
	}
}
