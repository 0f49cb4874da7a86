package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/slipway-cd/slipway/internal/appspec"
)

// instruction is one entry of <group>-install.json (install_instruction.rb
// to_h; api.md §6.9).
type instruction struct {
	Type        string   `json:"type"`
	Source      string   `json:"source,omitempty"`
	Destination string   `json:"destination,omitempty"`
	Directory   string   `json:"directory,omitempty"`
	File        string   `json:"file,omitempty"`
	Mode        string   `json:"mode,omitempty"`
	Owner       string   `json:"owner,omitempty"`
	Group       string   `json:"group,omitempty"`
	ACL         []string `json:"acl,omitempty"`

	retain bool
}

// plan is the instruction list Install builds before it touches anything.
type plan struct {
	list        []instruction
	copyTargets map[string]string // destination -> source
	dirTargets  map[string]bool   // directories this install creates
	behavior    appspec.FileExistsBehavior
}

// install executes Install (command_executor.rb:169–186, installer.rb).
func (x *Executor) install(spec *DeploymentSpec) error {
	dir := x.DeploymentDir(spec)
	archive := archiveDir(dir)
	as, err := x.loadAppSpec(archive, spec)
	if err != nil {
		return unknownError(err.Error())
	}
	if err := validateLifecycleEvents(as, spec); err != nil {
		return unknownError(err.Error())
	}
	if err := os.MkdirAll(x.instructionsDir(), 0o755); err != nil {
		return err
	}
	group := spec.DeploymentGroupID
	if err := x.runCleanup(x.cleanupFile(group)); err != nil {
		return fmt.Errorf("remove the previous revision's files: %w", err)
	}
	p := &plan{
		copyTargets: map[string]string{},
		dirTargets:  map[string]bool{},
		behavior:    as.EffectiveFileExistsBehavior(spec.FileExistsBehavior()),
	}
	switch p.behavior {
	case appspec.FileExistsDisallow, appspec.FileExistsOverwrite, appspec.FileExistsRetain:
	default:
		return unknownError(fmt.Sprintf("The deployment failed because an invalid file_exists_behavior %q was given", p.behavior))
	}
	for _, fm := range as.Files {
		src := filepath.Join(archive, filepath.FromSlash(fm.BundlePath))
		dst := x.destPath(fm.Destination)
		if err := p.addFiles(src, dst); err != nil {
			return unknownError(err.Error())
		}
	}
	if err := p.addPermissions(as.Permissions, x.destPath); err != nil {
		return unknownError(err.Error())
	}
	data, _ := json.MarshalIndent(map[string]any{"instructions": p.list}, "", "  ")
	if err := writeFileAtomic(x.installFile(group), data, 0o644); err != nil {
		return err
	}
	if err := x.execute(p, x.cleanupFile(group)); err != nil {
		return err
	}
	return writeFileAtomic(x.lastSuccessfulFile(group), []byte(dir), 0o644)
}

// destPath maps an AppSpec destination or object to the path on this
// machine: cleaned, and under InstallRoot when one is set.
func (x *Executor) destPath(p string) string {
	p = filepath.Clean("/" + p)
	if x.InstallRoot == "" {
		return p
	}
	return filepath.Join(x.InstallRoot, p)
}

// validateLifecycleEvents checks the AppSpec hooks against the
// specification's AllPossibleLifecycleEvents (command_executor.rb
// validate_app_spec_hooks; api.md §6.7).
func validateLifecycleEvents(as *appspec.Spec, spec *DeploymentSpec) error {
	if len(spec.AllPossibleLifecycleEvents) == 0 {
		return nil
	}
	all := map[string]bool{}
	for _, e := range spec.AllPossibleLifecycleEvents {
		all[e] = true
	}
	var unknown []string
	for ev := range as.Hooks {
		if !all[string(ev)] {
			unknown = append(unknown, string(ev))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("appspec.yml file contains unknown lifecycle events: %s", strings.Join(unknown, ", "))
	}
	return nil
}

// runCleanup removes the files the previous Install recorded in the
// cleanup file, newest first: files and symlinks are removed, directories
// only when empty, missing paths ignored, a torn last line dropped; then
// the cleanup file itself is removed (install_instruction.rb
// parse_remove_commands; api.md §6.9).
func (x *Executor) runCleanup(file string) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	lines = lines[:len(lines)-1] // the last element is "" or a torn line
	for i := len(lines) - 1; i >= 0; i-- {
		p := lines[i]
		if p == "" || strings.HasPrefix(p, "semanage\x00") || !filepath.IsAbs(p) {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			if err := os.Remove(p); err != nil && !isNotEmpty(err) {
				x.log().Warn("cleanup: cannot remove directory", "path", p, "err", err)
			}
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return os.Remove(file)
}

func isNotEmpty(err error) bool {
	return errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)
}

// addFiles plans one files entry (installer.rb generate_instructions).
func (p *plan) addFiles(src, dst string) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return fmt.Errorf("The source %s of a files entry does not exist in the bundle", src)
	}
	if fi.IsDir() {
		if err := p.mkdirAll(dst); err != nil {
			return err
		}
		return p.addDir(src, dst)
	}
	if err := p.mkdirAll(dst); err != nil {
		return err
	}
	return p.addCopy(src, filepath.Join(dst, filepath.Base(src)))
}

// mkdirAll plans a mkdir for dir and each missing ancestor.
func (p *plan) mkdirAll(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if p.dirTargets[d] {
			break
		}
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("The deployment failed because %s is a file, but the AppSpec file copies files into it", d)
			}
			break
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := p.addMkdir(missing[i]); err != nil {
			return err
		}
	}
	return nil
}

func (p *plan) addMkdir(dir string) error {
	if _, ok := p.copyTargets[dir]; ok {
		return fmt.Errorf("The deployment failed because %s is both a file and a directory in the AppSpec file's files section", dir)
	}
	if p.dirTargets[dir] {
		return nil
	}
	p.dirTargets[dir] = true
	p.list = append(p.list, instruction{Type: "mkdir", Directory: dir})
	return nil
}

// addDir plans the copy of directory src's contents into dst.
func (p *plan) addDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		if e.IsDir() {
			if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
				if err := p.addMkdir(d); err != nil {
					return err
				}
			}
			if err := p.addDir(s, d); err != nil {
				return err
			}
			continue
		}
		if err := p.addCopy(s, d); err != nil {
			return err
		}
	}
	return nil
}

// addCopy plans the copy of file src to dst, honouring file_exists_behavior
// when dst exists (installer.rb generate_normal_copy).
func (p *plan) addCopy(src, dst string) error {
	if prev, dup := p.copyTargets[dst]; dup {
		return fmt.Errorf("The deployment failed because the AppSpec file copies both %s and %s to %s", prev, src, dst)
	}
	if p.dirTargets[dst] {
		return fmt.Errorf("The deployment failed because %s is both a file and a directory in the AppSpec file's files section", dst)
	}
	p.copyTargets[dst] = src
	if _, err := os.Lstat(dst); err == nil {
		switch p.behavior {
		case appspec.FileExistsDisallow:
			return fmt.Errorf("The deployment failed because a specified file already exists at this location: %s", dst)
		case appspec.FileExistsRetain:
			p.list = append(p.list, instruction{Type: "retain", File: dst, retain: true})
			return nil
		}
	}
	p.list = append(p.list, instruction{Type: "copy", Source: src, Destination: dst})
	return nil
}

// addPermissions plans the permissions section: each entry applies to the
// files and directories this install creates that match its object,
// pattern, except and type (installer.rb, permission_info.rb).
func (p *plan) addPermissions(perms []appspec.Permission, mapPath func(string) string) error {
	files := sortedKeys(p.copyTargets)
	dirs := make([]string, 0, len(p.dirTargets))
	for d := range p.dirTargets {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, perm := range perms {
		obj := mapPath(perm.Object)
		var targets []string
		if _, ok := p.copyTargets[obj]; ok {
			if perm.AppliesTo(appspec.ObjectFile) {
				targets = append(targets, obj)
			}
		} else {
			if perm.AppliesTo(appspec.ObjectFile) {
				for _, f := range files {
					if matchPattern(obj, perm.Pattern, f) && !matchExcept(obj, perm.Except, f) {
						targets = append(targets, f)
					}
				}
			}
			if perm.AppliesTo(appspec.ObjectDirectory) {
				for _, d := range dirs {
					if (d == obj || matchPattern(obj, perm.Pattern, d)) && !matchExcept(obj, perm.Except, d) {
						targets = append(targets, d)
					}
				}
			}
		}
		for _, t := range targets {
			if perm.Mode != nil {
				p.list = append(p.list, instruction{Type: "chmod", Mode: perm.Mode.Text, File: t})
			}
			if perm.Owner != "" || perm.Group != "" {
				p.list = append(p.list, instruction{Type: "chown", Owner: perm.Owner, Group: perm.Group, File: t})
			}
			if len(perm.ACLs) > 0 {
				acl := make([]string, 0, len(perm.ACLs))
				for _, a := range perm.ACLs {
					acl = append(acl, fmt.Sprint(a))
				}
				p.list = append(p.list, instruction{Type: "setfacl", ACL: acl, File: t})
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// matchPattern reports whether name is under object and matches pattern:
// "**" matches everything under object; any other pattern is a simple glob
// matched against the name relative to object, which must not contain a
// slash (permission_info.rb matches_pattern?).
func matchPattern(object, pattern, name string) bool {
	base := strings.TrimSuffix(object, "/") + "/"
	if !strings.HasPrefix(name, base) {
		return false
	}
	if pattern == "**" {
		return true
	}
	rel := name[len(base):]
	if strings.Contains(rel, "/") {
		return false
	}
	ok, _ := path.Match(pattern, rel)
	return ok
}

// matchExcept reports whether name matches one of the except globs,
// relative to object (matches_except?) or as a whole path.
func matchExcept(object string, except []string, name string) bool {
	base := strings.TrimSuffix(object, "/") + "/"
	rel := strings.TrimPrefix(name, base)
	for _, e := range except {
		e = strings.TrimSuffix(e, "/")
		if ok, _ := path.Match(e, rel); ok && !strings.Contains(rel, "/") {
			return true
		}
		if e == rel || e == name || "/"+e == name || strings.HasSuffix(name, "/"+strings.TrimPrefix(e, "/")) && strings.Contains(e, "/") {
			return true
		}
	}
	return false
}

// execute runs the plan, recording each created path in the new cleanup
// file as it goes, so that a half-done Install is undone by the next one.
func (x *Executor) execute(p *plan, cleanup string) error {
	f, err := os.OpenFile(cleanup, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	record := func(path string) error {
		_, err := f.WriteString(path + "\n")
		return err
	}
	for _, in := range p.list {
		var err error
		switch in.Type {
		case "mkdir":
			if err = os.Mkdir(in.Directory, 0o755); errors.Is(err, fs.ErrExist) {
				if fi, serr := os.Stat(in.Directory); serr == nil && fi.IsDir() {
					continue // created meanwhile, not ours
				}
			}
			if err == nil {
				err = record(in.Directory)
			}
		case "copy":
			err = copyEntry(in.Source, in.Destination)
			if err == nil {
				err = record(in.Destination)
			}
		case "retain":
			err = record(in.File)
		case "chmod":
			err = x.applyMode(in.File, in.Mode)
		case "chown":
			err = x.applyOwner(in.File, in.Owner, in.Group)
		case "setfacl":
			x.log().Warn("acls are not applied by the Slipway agent", "file", in.File, "acl", in.ACL)
		}
		if err != nil {
			return fmt.Errorf("install: %s %s%s: %w", in.Type, in.Directory, in.Destination+in.File, err)
		}
	}
	return f.Sync()
}

// copyEntry copies src to dst, re-creating a symlink as a symlink.
func copyEntry(src, dst string) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		_ = os.Remove(dst)
		return os.Symlink(target, dst)
	}
	if dfi, err := os.Lstat(dst); err == nil && dfi.Mode()&fs.ModeSymlink != 0 {
		if err := os.Remove(dst); err != nil {
			return err
		}
	}
	return copyFile(src, dst)
}

func (x *Executor) applyMode(file, mode string) error {
	fi, err := os.Lstat(file)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil
	}
	m, err := appspec.ParseMode(mode)
	if err != nil {
		return err
	}
	return os.Chmod(file, m.FileMode())
}

// applyOwner changes the owner and group. Only root may give files away;
// an agent running as another user skips the change with a warning, unless
// it is a no-op.
func (x *Executor) applyOwner(file, owner, group string) error {
	uid, gid := -1, -1
	if owner != "" {
		u, err := user.Lookup(owner)
		if err != nil {
			return fmt.Errorf("owner %s: %w", owner, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
	}
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return fmt.Errorf("group %s: %w", group, err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	if !x.isRoot() {
		if err := os.Lchown(file, uid, gid); err != nil {
			x.log().Warn("not running as root: owner and group not changed", "file", file, "owner", owner, "group", group)
		}
		return nil
	}
	return os.Lchown(file, uid, gid)
}
