package appspec

import (
	"fmt"
	"time"
)

// File names and limits of the AppSpec file.
const (
	// DefaultFilename is the name the agent looks for first
	// (codedeploy.md §4.1; api.md §6.6 AppSpecFilename default).
	DefaultFilename = "appspec.yml"
	// AlternateFilename is accepted when DefaultFilename is absent
	// (agent 1.3.2 release notes; command_executor.rb app_spec_real_path).
	AlternateFilename = "appspec.yaml"
	// SupportedVersion is the only version value (codedeploy.md §4.2).
	SupportedVersion = "0.0"
	// DefaultTimeout applies to a script without a timeout (script_info.rb;
	// codedeploy.md §4.5).
	DefaultTimeout = 3600 * time.Second
	// MaxTimeout is the longest timeout a script may have, and the longest a
	// lifecycle event may run (codedeploy.md §4.5, §10.1).
	MaxTimeout = 3600 * time.Second
	// DefaultPattern is the permissions pattern used when none is given
	// (codedeploy.md §4.4).
	DefaultPattern = "**"
	// MaxSize is the largest AppSpec file Parse reads. The agent has no
	// limit; real files are a few hundred bytes, and the limit keeps a
	// hostile bundle from making the server parse megabytes of YAML.
	MaxSize = 1 << 20
)

// OS is the value of the top-level os key.
type OS string

// The operating systems an AppSpec file may name (codedeploy.md §4.2).
// Slipway agents run Linux; a windows spec parses but fails
// [Spec.CheckOS] on a Linux host, as it does with the stock agent.
const (
	OSLinux   OS = "linux"
	OSWindows OS = "windows"
)

// FileExistsBehavior says what Install does with a file that already exists
// at a destination but was not installed by the previous successful
// deployment (codedeploy.md §4.3, §6.3).
type FileExistsBehavior string

// The file_exists_behavior values (codedeploy.md §6.3; the API's
// FileExistsBehavior enum).
const (
	// FileExistsDisallow fails the deployment. It is the default.
	FileExistsDisallow FileExistsBehavior = "DISALLOW"
	// FileExistsOverwrite replaces the file with the revision's copy.
	FileExistsOverwrite FileExistsBehavior = "OVERWRITE"
	// FileExistsRetain keeps the file on the instance.
	FileExistsRetain FileExistsBehavior = "RETAIN"
)

// ObjectType is an entry of a permission's type list.
type ObjectType string

// The object types a permission may apply to (codedeploy.md §4.4).
const (
	// ObjectFile selects the files immediately inside the object.
	ObjectFile ObjectType = "file"
	// ObjectDirectory selects the directories recursively under the object.
	ObjectDirectory ObjectType = "directory"
)

// Spec is a parsed and validated AppSpec file.
type Spec struct {
	// Version is always SupportedVersion.
	Version string
	// OS is the os key; OSLine is the line it is on.
	OS     OS
	OSLine int
	// Files are the files entries in file order.
	Files []FileMapping
	// FileExistsBehavior is the top-level file_exists_behavior, or "" when
	// the file does not set it.
	FileExistsBehavior FileExistsBehavior
	// Permissions are the permissions entries in file order.
	Permissions []Permission
	// Hooks maps each event named in the hooks section to its scripts, in
	// the order they run. It is never nil.
	Hooks map[Event][]Script
	// Warnings are things the agent accepts but that probably do not do
	// what the author meant, in file order.
	Warnings []Warning
}

// FileMapping is one entry of the files section.
type FileMapping struct {
	// Source is the source as written.
	Source string
	// BundlePath is Source cleaned and made relative to the bundle root,
	// with forward slashes; "." means the whole bundle.
	BundlePath string
	// Destination is the absolute destination directory as written.
	Destination string
	// Line is the line of the entry.
	Line int
}

// WholeBundle reports whether the entry copies the whole bundle (source "/"
// on Linux, "\" on Windows).
func (f FileMapping) WholeBundle() bool { return f.BundlePath == "." }

// Script is one script of a lifecycle event hook.
type Script struct {
	// Location is the location as written, trimmed as the agent trims it.
	Location string
	// BundlePath is Location cleaned and made relative to the bundle root,
	// with forward slashes.
	BundlePath string
	// Timeout is the timeout, DefaultTimeout when the file gives none.
	Timeout time.Duration
	// TimeoutSet reports whether the file gives a timeout.
	TimeoutSet bool
	// RunAs is the user to run the script as, or "".
	RunAs string
	// Sudo is the agent's undocumented sudo flag (runs the script through
	// sudo; linux_util.rb prepare_script_command).
	Sudo bool
	// Line is the line of the script's entry.
	Line int
}

// Permission is one entry of the permissions section.
type Permission struct {
	// Object is the absolute path the permission applies under.
	Object string
	// Pattern is the glob, DefaultPattern when none is given.
	Pattern string
	// Except lists the globs excluded from Pattern.
	Except []string
	// Owner and Group are "" when unchanged.
	Owner string
	Group string
	// Mode is nil when unchanged.
	Mode *Mode
	// ACLs are the ACL entries; nil when none are given.
	ACLs []ACE
	// Context is the SELinux context; nil when none is given. Slipway
	// agents do not apply it.
	Context *SELinuxContext
	// Types lists the object types; both when the file gives none.
	Types []ObjectType
	// Line is the line of the entry.
	Line int
}

// AppliesTo reports whether the permission applies to objects of type t.
func (p Permission) AppliesTo(t ObjectType) bool {
	for _, have := range p.Types {
		if have == t {
			return true
		}
	}
	return false
}

// SELinuxContext is a permission's context. The agent reads the user from
// the key name; the documentation calls it user; Parse accepts either.
type SELinuxContext struct {
	// User is the SELinux user, e.g. unconfined_u; may be "".
	User string
	// Type is the SELinux type, e.g. httpd_sys_content_t.
	Type string
	// Range is the MLS/MCS range, e.g. s0; "" when not given.
	Range string
}

// Warning is something Parse accepted, as the agent does, but that likely
// does not do what the author meant.
type Warning struct {
	// Line is the 1-based line the warning is about.
	Line int
	// Msg says what is ignored and what to write instead.
	Msg string
}

// String formats the warning like a ParseError.
func (w Warning) String() string {
	return fmt.Sprintf("%s line %d: %s", DefaultFilename, w.Line, w.Msg)
}

// Scripts returns the scripts of event e, in the order they run; nil when
// the file has none.
func (s *Spec) Scripts(e Event) []Script { return s.Hooks[e] }

// TotalTimeout is the sum of the timeouts of event e's scripts, counting
// DefaultTimeout for a script without one, as the agent's
// total_timeout_for_all_scripts does (api.md §6.13: one script of 300 s and
// one without a timeout give 3900 s).
func (s *Spec) TotalTimeout(e Event) time.Duration {
	var total time.Duration
	for _, sc := range s.Hooks[e] {
		total += sc.Timeout
	}
	return total
}

// EffectiveFileExistsBehavior returns the behavior Install uses: the
// AppSpec file's own value when it sets one, else the deployment's value,
// else DISALLOW (codedeploy.md §4.3, §6.3; installer.rb
// generate_instructions).
func (s *Spec) EffectiveFileExistsBehavior(deployment FileExistsBehavior) FileExistsBehavior {
	switch {
	case s.FileExistsBehavior != "":
		return s.FileExistsBehavior
	case deployment != "":
		return deployment
	default:
		return FileExistsDisallow
	}
}

// CheckOS returns a *ParseError when the spec's os is not host, the check
// the agent makes with its platform's supported OS list (parse_os;
// codedeploy.md §4.1: "If the CodeDeploy agent installed on the operating
// system doesn't match what's listed in the AppSpec file, the deployment
// fails").
func (s *Spec) CheckOS(host OS) error {
	if s.OS == host {
		return nil
	}
	return errAt(s.OSLine, "os is %s, but this instance runs %s; an AppSpec file "+
		"must name the operating system of the instances it deploys to, so set os: %s "+
		"(Slipway agents run on Linux)", s.OS, host, host)
}
