//go:build linux

package drills

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"golang.org/x/sys/unix"
)

// fullDisk makes the server's data directory run out of space and gives
// the space back.
type fullDisk interface {
	fill(t *testing.T)
	free(t *testing.T)
}

// tmpfsDisk is a small tmpfs mounted as the data directory, filled with a
// ballast file.
type tmpfsDisk struct{ dir string }

func (d *tmpfsDisk) ballast() string { return filepath.Join(d.dir, "ballast") }

func (d *tmpfsDisk) fill(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(d.ballast(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{1 << 20, 64 << 10, 4 << 10, 512, 1} {
		buf := make([]byte, size)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("fill the data directory: %v", err)
				}
				break
			}
		}
	}
}

func (d *tmpfsDisk) free(t *testing.T) {
	t.Helper()
	if err := os.Remove(d.ballast()); err != nil {
		t.Fatal(err)
	}
}

// fsizeDisk limits the size of any file the server process writes
// (RLIMIT_FSIZE, set with prlimit(2)) to the current size of its largest
// database file, for machines where tmpfs cannot be mounted.
type fsizeDisk struct {
	s *serverProc
}

func (d *fsizeDisk) fill(t *testing.T) {
	t.Helper()
	var largest int64
	matches, _ := filepath.Glob(filepath.Join(d.s.dir, "slipway.db*"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	lim := unix.Rlimit{Cur: uint64(largest), Max: unix.RLIM_INFINITY}
	if err := unix.Prlimit(d.s.cmd.Process.Pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
		t.Fatalf("prlimit RLIMIT_FSIZE: %v", err)
	}
}

func (d *fsizeDisk) free(t *testing.T) {
	t.Helper()
	lim := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	if err := unix.Prlimit(d.s.cmd.Process.Pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
		t.Fatalf("prlimit RLIMIT_FSIZE: %v", err)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on dir, unmounted when the test
// ends; it returns an error when mounting is not allowed here.
func mountTmpfs(t *testing.T, dir string, size int) error {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		return err
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return nil
}

func approvalPipeline(name string) *types.PipelineDeclaration {
	return pipelineDecl(name, types.ExecutionModeQueued,
		customAction("Fetch", types.ActionCategorySource, "DiskSource", nil, []string{"Code"}),
		types.ActionDeclaration{Name: aws.String("Approve"), RunOrder: aws.Int32(1),
			ActionTypeId: &types.ActionTypeId{Category: types.ActionCategoryApproval, Owner: types.ActionOwnerAws, Provider: aws.String("Manual"), Version: aws.String("1")}})
}

// Drill 2: the data directory runs out of space (a small tmpfs filled
// with a ballast file; where mounting is not allowed, RLIMIT_FSIZE on the
// server process). Writes are refused with ServiceUnavailableException
// saying the database cannot be written, not a crash or an
// InternalFailure; reads go on; when the space returns, writes succeed
// again without a restart; nothing acknowledged before or during the
// outage is lost, also across a restart.
func TestDrillDiskFull(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	data := filepath.Join(root, "data")
	var disk fullDisk
	var s *serverProc
	// SLIPWAY_DRILL_DISK=fsize runs the RLIMIT_FSIZE variant where tmpfs
	// could be mounted.
	if os.Getenv("SLIPWAY_DRILL_DISK") == "fsize" {
		s = newServer(t, data)
		disk = &fsizeDisk{s: s}
	} else if err := mountTmpfs(t, data, 48<<20); err != nil {
		t.Logf("cannot mount a tmpfs (%v); limiting the server's file size with prlimit instead", err)
		s = newServer(t, data)
		disk = &fsizeDisk{s: s}
	} else {
		s = newServer(t, data)
		disk = &tmpfsDisk{dir: data}
	}
	cp := s.cp(1)
	ctx := context.Background()
	if _, err := cp.CreateCustomActionType(ctx, customType(types.ActionCategorySource, "DiskSource", 0, 1)); err != nil {
		t.Fatalf("CreateCustomActionType: %v", err)
	}
	var acked []string
	create := func(name string) error {
		_, err := cp.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: approvalPipeline(name)})
		if err == nil {
			acked = append(acked, name)
		}
		return err
	}
	for i := range 5 {
		if err := create(fmt.Sprintf("Before%d", i)); err != nil {
			t.Fatalf("CreatePipeline: %v", err)
		}
	}
	pid := s.cmd.Process.Pid

	disk.fill(t)
	// Writes fail once the database needs room (WAL pages already
	// allocated may take a few more).
	var refusal error
	for i := range 200 {
		if err := create(fmt.Sprintf("During%03d", i)); err != nil {
			refusal = err
			break
		}
	}
	if refusal == nil {
		t.Fatalf("200 CreatePipeline calls succeeded on a full disk")
	}
	code := apiCode(refusal)
	if code != "ServiceUnavailableException" || !strings.Contains(refusal.Error(), "database cannot be written") {
		t.Errorf("CreatePipeline on a full disk: %v; want ServiceUnavailableException saying the database cannot be written\n%s", refusal, s.tail())
	} else {
		t.Logf("refused: %v", refusal)
	}
	for range 3 {
		if err := create("DuringAgain"); err == nil {
			break // the write found room after all; it is acknowledged
		} else if c := apiCode(err); c != "ServiceUnavailableException" {
			t.Errorf("another write on the full disk: %v", err)
		}
	}
	// Reads go on, and the server is up.
	if !s.healthy() {
		t.Fatalf("the server is not healthy with a full disk:\n%s", s.tail())
	}
	lst, err := cp.ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
	if err != nil {
		t.Fatalf("ListPipelines with a full disk: %v", err)
	}
	if len(lst.Pipelines) != len(acked) {
		t.Errorf("ListPipelines with a full disk: %d pipelines, want the %d acknowledged", len(lst.Pipelines), len(acked))
	}
	for _, name := range acked {
		if _, err := cp.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String(name)}); err != nil {
			t.Errorf("GetPipeline %s with a full disk: %v", name, err)
		}
	}

	// Space returns: writes succeed again, without a restart.
	disk.free(t)
	eventually(t, 20*time.Second, "a write to succeed after the space returned", func() (bool, string) {
		err := create(fmt.Sprintf("After%d", len(acked)))
		return err == nil, fmt.Sprint(err)
	})
	if s.cmd.Process.Pid != pid || !s.running() {
		t.Fatalf("the server restarted or exited during the outage")
	}

	// Nothing acknowledged is lost, also after a restart.
	check := func(when string) {
		t.Helper()
		for _, name := range acked {
			if _, err := cp.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String(name)}); err != nil {
				t.Errorf("%s: acknowledged pipeline %s: %v", when, name, err)
			}
		}
	}
	check("after the outage")
	s.kill()
	s.start()
	if fd, ok := disk.(*fsizeDisk); ok {
		fd.s = s
	}
	check("after a restart")
	t.Logf("%d pipelines acknowledged across the outage, none lost", len(acked))
}
