package agent

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/slipway-cd/slipway/internal/appspec"
	"github.com/slipway-cd/slipway/internal/artifact"
)

// downloadBundle executes DownloadBundle (command_executor.rb:123–167;
// api.md §6.8).
func (x *Executor) downloadBundle(ctx context.Context, spec *DeploymentSpec) error {
	x.cleanupOldArchives(spec)
	dir := x.DeploymentDir(spec)
	archive := archiveDir(dir)
	bundle := filepath.Join(dir, "bundle.tar")
	bundleType := spec.BundleType()

	switch spec.Revision.RevisionType {
	case RevisionLocalDir:
		if spec.Revision.LocalRevision == nil || spec.Revision.LocalRevision.Location == "" {
			return errors.New("Local Directory revision has no Location")
		}
		if err := os.RemoveAll(archive); err != nil {
			return err
		}
		if err := copyTree(spec.Revision.LocalRevision.Location, archive); err != nil {
			return fmt.Errorf("copy local directory revision: %w", err)
		}
		bundleType = "directory"
	case RevisionLocalFile:
		if spec.Revision.LocalRevision == nil || spec.Revision.LocalRevision.Location == "" {
			return errors.New("Local File revision has no Location")
		}
		_ = os.Remove(bundle)
		if err := os.Symlink(spec.Revision.LocalRevision.Location, bundle); err != nil {
			return err
		}
	default:
		if err := x.fetch(ctx, spec, bundle); err != nil {
			return err
		}
	}

	if bundleType != "directory" {
		if err := x.unpack(bundle, bundleType, archive); err != nil {
			return err
		}
	}
	if _, err := x.loadAppSpec(archive, spec); err != nil {
		return unknownError(err.Error())
	}
	return writeFileAtomic(x.mostRecentFile(spec.DeploymentGroupID), []byte(dir), 0o644)
}

// fetch downloads the bundle with the Fetcher into path, checking the
// SHA-256 and the ETag when the specification gives them.
func (x *Executor) fetch(ctx context.Context, spec *DeploymentSpec, path string) error {
	if x.Fetcher == nil {
		return fmt.Errorf("no bundle fetcher for %s revisions", spec.Revision.RevisionType)
	}
	_ = os.Remove(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	etag, err := x.Fetcher.FetchBundle(ctx, spec, io.MultiWriter(f, h))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download bundle: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if want := strings.ToLower(spec.SlipwayBundleSHA256); want != "" && want != sum {
		return fmt.Errorf("the downloaded bundle's SHA-256 is %s, but the deployment specification says %s", sum, want)
	}
	if s3 := spec.Revision.S3Revision; s3 != nil && s3.ETag != nil && *s3.ETag != "" && etag != "" {
		want, got := strings.Trim(*s3.ETag, `"`), strings.Trim(etag, `"`)
		if want != got && !strings.EqualFold(want, sum) {
			return fmt.Errorf("Expected deployment bundle ETag %s but got %s", want, got)
		}
	}
	x.log().Info("downloaded bundle", "deployment", spec.DeploymentID, "path", path, "sha256", sum)
	return nil
}

// unpack extracts bundle into archive with the artifact package's safety
// checks, replacing what was there, and strips a single top-level
// directory that holds the AppSpec file (api.md §6.8 step 3).
func (x *Executor) unpack(bundle, bundleType, archive string) error {
	if bundleType == "" {
		t, err := sniffBundleType(bundle)
		if err != nil {
			return err
		}
		bundleType = t
	}
	tmp := archive + ".partial"
	for _, p := range []string{archive, tmp} {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	f, err := os.Open(bundle)
	if err != nil {
		return err
	}
	defer f.Close()
	switch bundleType {
	case "zip":
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil {
			err = artifact.Extract(f, fi.Size(), tmp, x.bundleLimits())
		}
	case "tar", "tgz":
		err = artifact.ExtractTar(bufio.NewReader(f), tmp, bundleType == "tgz", x.bundleLimits())
	default:
		err = fmt.Errorf("unsupported bundle type %q", bundleType)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return unknownError(fmt.Sprintf("The bundle could not be unpacked: %v", err))
	}
	src := tmp
	if entries, err := os.ReadDir(tmp); err == nil && len(entries) == 1 && entries[0].IsDir() {
		inner := filepath.Join(tmp, entries[0].Name())
		if _, err := appspec.Find(inner); err == nil {
			src = inner
		}
	}
	if err := os.Rename(src, archive); err != nil {
		return err
	}
	return os.RemoveAll(tmp)
}

// sniffBundleType tells zip, gzip'd tar and tar apart by their magic.
func sniffBundleType(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return "zip", nil
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "tgz", nil
	case n >= 262 && string(head[257:262]) == "ustar":
		return "tar", nil
	}
	return "", unknownError("The bundle is not a zip, tar or tgz archive")
}

// bundleLimits are the extraction limits of a bundle: MaxBundleBytes in
// total and per file when set, the artifact defaults otherwise.
func (x *Executor) bundleLimits() artifact.Limits {
	if x.MaxBundleBytes <= 0 {
		return artifact.Limits{}
	}
	return artifact.Limits{MaxBytes: x.MaxBundleBytes, MaxFileBytes: x.MaxBundleBytes}
}

// cleanupOldArchives keeps at most MaxRevisions deployment directories of
// the group, the current one included, never deleting the last successful
// one; the oldest (by modification time) go first
// (command_executor.rb cleanup_old_archives).
func (x *Executor) cleanupOldArchives(spec *DeploymentSpec) {
	keep := x.MaxRevisions
	if keep <= 0 {
		keep = DefaultMaxRevisions
	}
	group := x.groupDir(spec)
	entries, err := os.ReadDir(group)
	if err != nil {
		return
	}
	current := x.DeploymentDir(spec)
	type dirAge struct {
		path string
		mod  int64
	}
	var others []dirAge
	for _, e := range entries {
		p := filepath.Join(group, e.Name())
		if !e.IsDir() || p == current {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		others = append(others, dirAge{p, fi.ModTime().UnixNano()})
	}
	extra := len(others) - keep + 1
	if extra <= 0 {
		return
	}
	last := readPointer(x.lastSuccessfulFile(spec.DeploymentGroupID))
	sort.Slice(others, func(i, j int) bool { return others[i].mod < others[j].mod })
	for _, d := range others {
		if extra == 0 {
			break
		}
		if d.path == last {
			continue
		}
		x.log().Info("removing old revision", "dir", d.path)
		_ = os.RemoveAll(d.path)
		extra--
	}
}

// copyTree copies the directory src to dst (Local Directory revisions).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		}
		return copyFile(p, target)
	})
}

// copyFile copies the regular file src to dst with src's mode and times.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	tmp := dst + ".slipway-tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
		os.Remove(tmp)
		return err
	}
	_ = os.Chtimes(tmp, fi.ModTime(), fi.ModTime())
	return os.Rename(tmp, dst)
}
