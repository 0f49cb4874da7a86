package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// Output formats of the -o flag.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
)

// usageError is a mistake in how a command was called (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// groupCommand makes cmd, a command that only holds subcommands, print
// its help when run alone and refuse other arguments as a usage error.
func groupCommand(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
		}
		return cmd.Help()
	}
	return cmd
}

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// withUsage wraps the errors of a positional-argument check as usage
// errors.
func withUsage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// exitCode prints err as one line on stderr and returns the process exit
// code: 0 without an error, 2 for a usage error, 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "slipway:", err)
	var u usageError
	if errors.As(err, &u) || isCobraUsage(err) {
		return 2
	}
	return 1
}

// isCobraUsage reports whether err is one of cobra's own usage errors,
// which it returns unwrapped.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command ", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least ",
		"requires at most ", "invalid argument ", "flag needs an argument", "required flag(s)", "if any flags in the group"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// outputFormat returns the -o value of cmd: table (also "text"), json or
// yaml (only where allowYAML).
func outputFormat(cmd *cobra.Command, allowYAML bool) (string, error) {
	f := cmd.Flags().Lookup("output")
	if f == nil {
		return formatTable, nil
	}
	switch v := f.Value.String(); v {
	case "", formatTable, "text":
		return formatTable, nil
	case formatJSON:
		return formatJSON, nil
	case formatYAML:
		if allowYAML {
			return formatYAML, nil
		}
	}
	if allowYAML {
		return "", usagef("-o %q: use table, json or yaml", f.Value.String())
	}
	return "", usagef("-o %q: use table or json", f.Value.String())
}

// writeJSON writes v as indented JSON. An AWS SDK output struct loses its
// ResultMetadata member, which holds nothing for scripts.
func writeJSON(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) == nil {
		if _, ok := obj["ResultMetadata"]; ok {
			delete(obj, "ResultMetadata")
			if data, err = json.Marshal(obj); err != nil {
				return fmt.Errorf("encode output: %w", err)
			}
		}
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

// writeYAML writes a JSON-shaped value as YAML, keeping the JSON keys.
func writeYAML(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	clearStyle(&node)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	return enc.Close()
}

// clearStyle turns JSON's flow style into YAML's block style.
func clearStyle(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle | yaml.DoubleQuotedStyle
	for _, c := range n.Content {
		clearStyle(c)
	}
}

// table is rows of cells drawn with aligned columns.
type table struct {
	header []string
	rows   [][]string
	// colour, when set, colours a cell after padding (so escapes do not
	// disturb the alignment); col is the column index.
	colour func(col int, cell string) string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// render returns the table as text: columns separated by two spaces, the
// last column unpadded, trailing spaces trimmed.
func (t *table) render() string {
	all := t.rows
	if t.header != nil {
		all = append([][]string{t.header}, t.rows...)
	}
	var widths []int
	for _, r := range all {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for ri, r := range all {
		var line strings.Builder
		for i, c := range r {
			cell := c
			if i < len(r)-1 {
				cell += strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2)
			}
			if t.colour != nil && (t.header == nil || ri > 0) && c != "" {
				cell = t.colour(i, c) + cell[len(c):]
			}
			line.WriteString(cell)
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// ANSI colours of statuses.
const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiGrey   = "\x1b[90m"
)

// statusColour colours a CodePipeline or CodeDeploy status.
func statusColour(status string) string {
	var c string
	switch status {
	case "Succeeded", "Ready", "Registered":
		c = ansiGreen
	case "Failed", "Stopped", "Abandoned", "Rejected", "Deregistered":
		c = ansiRed
	case "InProgress", "Stopping", "Created", "Queued", "Baking":
		c = ansiBlue
	case "Superseded", "Cancelled", "Skipped", "Unknown":
		c = ansiGrey
	case "Pending", "Waiting", "Disabled":
		c = ansiYellow
	default:
		return status
	}
	return c + status + ansiReset
}

// useColour reports whether w is a terminal and NO_COLOR is unset.
func useColour(w io.Writer) bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether w is a character device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// ago words how long before now t was ("" for the zero time).
func ago(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return shortDuration(now.Sub(*t)) + " ago"
}

// shortDuration words d with at most two units: 45s, 3m12s, 2h5m, 3d4h.
func shortDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return trimZero(fmt.Sprintf("%dm%ds", s/60, s%60))
	case s < 86400:
		return trimZero(fmt.Sprintf("%dh%dm", s/3600, (s%3600)/60))
	default:
		return trimZero(fmt.Sprintf("%dd%dh", s/86400, (s%86400)/3600))
	}
}

// trimZero drops a zero second unit: 3m0s -> 3m.
func trimZero(s string) string {
	for _, z := range []string{"0s", "0m", "0h"} {
		if strings.HasSuffix(s, z) && len(s) > len(z) && (s[len(s)-len(z)-1] < '0' || s[len(s)-len(z)-1] > '9') {
			return strings.TrimSuffix(s, z)
		}
	}
	return s
}

// oneLine squeezes s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// clock formats t as a UTC time ("" for nil).
func clock(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// parseKeyValues parses KEY=VALUE arguments of flag (KEY non-empty).
func parseKeyValues(flag string, vals []string) ([][2]string, error) {
	var out [][2]string
	for _, s := range vals {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, usagef("%s %q: use KEY=VALUE", flag, s)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
