// Package appspec parses and validates appspec.yml, the AppSpec file of an
// EC2/on-premises revision, the way the stock CodeDeploy agent
// (aws-codedeploy-agent 1.8.1) reads it, and reports every mistake as a
// [*ParseError] that names the line, the field and the fix.
//
// [Parse] is pure: it never touches the file system. [Find] is the only I/O
// in the package; it locates the AppSpec file at the root of an unpacked
// bundle.
//
// # Sources
//
// The rules come from reference/codedeploy.md §4 (the AppSpec file), §2.2 to
// §2.4 (lifecycle events), §6.3 (file_exists_behavior) and §10, and from
// reference/api.md §6.5 to §6.10, which describe the agent's
// ApplicationSpecification, Installer and HookExecutor. Where the agent's
// own code settles a detail, its file is named next to the rule:
//
//   - version must be 0.0, written unquoted: the agent compares the YAML
//     value with the float 0.0 (application_specification.rb parse_version),
//     so a quoted "0.0" is rejected, and 0 or 0.00 are accepted.
//   - os is linux or windows (parse_os). Both parse; [Spec.CheckOS] rejects a
//     spec whose os does not match the host, as the agent does. Slipway
//     agents run Linux only.
//   - files entries need source and destination (file_info.rb). source is
//     relative to the bundle root; a leading / (or \ for windows) is the
//     bundle root, so "/" alone copies the whole bundle (installer.rb joins
//     it to the archive directory).
//   - file_exists_behavior is a top-level key, DISALLOW, OVERWRITE or RETAIN,
//     and wins over the deployment's own option (installer.rb
//     generate_instructions); see [Spec.EffectiveFileExistsBehavior].
//   - permissions: Linux only; object required; pattern defaults to "**";
//     except and type are lists; type is file and/or directory and defaults
//     to both; mode is one to four octal digits, left-padded to three
//     (mode_info.rb); acls use setfacl's grammar and may not set unnamed
//     base entries (ace_info.rb); context needs a type and an optional MLS
//     range (context_info.rb, range_info.rb).
//   - hooks map a lifecycle event to a list of scripts; each script needs a
//     location; timeout defaults to 3600 seconds and must be above 0
//     (script_info.rb); runas and sudo are optional.
//
// # Stricter than the agent
//
// The agent ignores what it does not read and fails late, or not at all, on
// several mistakes. Parse rejects them up front, each with a message that
// says what to write instead:
//
//   - unknown top-level keys, and keys inside entries that look like a
//     misspelt known key (runAs, timout), which the agent would silently
//     ignore; other unknown keys inside entries only add a [Warning];
//   - duplicate keys anywhere (Ruby's YAML keeps the last one silently);
//   - tabs in indentation, more than one YAML document, YAML aliases and
//     merge keys;
//   - hook event names other than the nine scriptable ones (the agent
//     accepts any name at parse time and fails at Install);
//   - a timeout above 3600 seconds, or one that is not a whole number
//     (the agent's to_i reads "30s" as 30 and "abc" as 0);
//   - a destination or permissions object that is not absolute, and a
//     source or location that climbs out of the bundle with "..";
//   - an unquoted mode with a leading zero: YAML 1.1, which the agent uses,
//     reads 0644 as the octal number 420, so the agent would apply mode 420;
//   - runas, owner and group values that are not plain account names, since
//     they end up on an su/chown command line.
//
// The SELinux context of a permission is parsed and validated, but Slipway
// agents do not apply it; Parse records a [Warning] for it.
package appspec
