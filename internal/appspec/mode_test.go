package appspec_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/appspec"
)

// TestParseMode checks the agent's mode rules (mode_info.rb): pad to three
// digits, at most four, octal digits only.
func TestParseMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		text    string
		bits    uint32
		wantErr string
	}{
		{in: "644", text: "644", bits: 0o644},
		{in: "0644", text: "0644", bits: 0o644},
		{in: "755", text: "755", bits: 0o755},
		{in: "4755", text: "4755", bits: 0o4755},
		{in: "7", text: "007", bits: 0o7},
		{in: "44", text: "044", bits: 0o44},
		{in: "0", text: "000", bits: 0},
		{in: "7777", text: "7777", bits: 0o7777},
		{in: "", wantErr: "empty"},
		{in: "12345", wantErr: "more than four digits"},
		{in: "04755", wantErr: "more than four digits"},
		{in: "8", wantErr: "not an octal digit"},
		{in: "649", wantErr: "'9'"},
		{in: "u+x", wantErr: "symbolic"},
		{in: "rw-", wantErr: "not an octal digit"},
		{in: "-644", wantErr: "not an octal digit"},
		{in: " 644", wantErr: "not an octal digit"},
		{in: "6.4", wantErr: "not an octal digit"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			m, err := appspec.ParseMode(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseMode(%q) = %+v, %v; want an error with %q", tc.in, m, err, tc.wantErr)
				}
				return
			}
			if err != nil || m.Text != tc.text || m.Bits != tc.bits {
				t.Fatalf("ParseMode(%q) = %+v, %v; want %s %o", tc.in, m, err, tc.text, tc.bits)
			}
		})
	}
}

// TestModeFileMode checks the conversion to fs.FileMode, including the
// special bits.
func TestModeFileMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want fs.FileMode
	}{
		{"644", 0o644},
		{"4755", fs.ModeSetuid | 0o755},
		{"2750", fs.ModeSetgid | 0o750},
		{"1777", fs.ModeSticky | 0o777},
		{"7000", fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky},
	}
	for _, tc := range tests {
		m, err := appspec.ParseMode(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.FileMode(); got != tc.want {
			t.Errorf("ParseMode(%q).FileMode() = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestModeInYAML checks how YAML spellings of a mode reach the agent's
// rules: quoted and unquoted digits, and the unquoted leading zero that
// YAML 1.1 would read as octal.
func TestModeInYAML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value   string
		text    string
		wantErr string
	}{
		{value: "644", text: "644"},
		{value: `"0644"`, text: "0644"},
		{value: `'0755'`, text: "0755"},
		{value: "4755", text: "4755"},
		{value: "7", text: "007"},
		{value: `"7"`, text: "007"},
		{value: "0644", wantErr: "not quoted"},
		{value: "0o644", wantErr: "not quoted"},
		{value: "0x1ff", wantErr: "not quoted"},
		{value: "1e3", wantErr: "not an octal digit"},
		{value: "64.4", wantErr: "not an octal digit"},
		{value: "[644]", wantErr: "single value"},
		{value: "true", wantErr: "not an octal digit"},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			spec, err := appspec.Parse([]byte(linux("permissions:", "  - object: /opt/app", "    mode: "+tc.value)))
			if tc.wantErr != "" {
				var pe *appspec.ParseError
				if !errors.As(err, &pe) || pe.Line != 5 || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("mode: %s gave %v; want an error on line 5 with %q", tc.value, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := spec.Permissions[0].Mode; got == nil || got.Text != tc.text {
				t.Fatalf("mode: %s parsed to %+v, want %s", tc.value, got, tc.text)
			}
		})
	}
}

// TestModeOmitted checks that a permission without mode leaves it
// unchanged (nil), as does an empty mode key.
func TestModeOmitted(t *testing.T) {
	t.Parallel()
	for _, extra := range []string{"    owner: bob", "    mode:"} {
		spec, err := appspec.Parse([]byte(linux("permissions:", "  - object: /opt/app", extra)))
		if err != nil {
			t.Fatal(err)
		}
		if spec.Permissions[0].Mode != nil {
			t.Errorf("%q: Mode = %+v, want nil", extra, spec.Permissions[0].Mode)
		}
	}
}
