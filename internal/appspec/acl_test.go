package appspec_test

import (
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/appspec"
)

// TestParseACE checks the agent's ACL entry grammar (ace_info.rb).
func TestParseACE(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "u:mary:rw", want: "user:mary:rw-"},
		{in: "user:mary:rwx", want: "user:mary:rwx"},
		{in: "g:devs:r-x", want: "group:devs:r-x"},
		{in: "group:devs:5", want: "group:devs:r-x"},
		{in: "m::rw", want: "mask::rw-"},
		{in: "mask::7", want: "mask::rwx"},
		{in: "mary:rw", want: "user:mary:rw-"},
		{in: "m:r", want: "mask::r--"},
		{in: "d:u:bob:rw", want: "default:user:bob:rw-"},
		{in: "default:g:devs:r", want: "default:group:devs:r--"},
		{in: "d:u::rwx", want: "default:user::rwx"},
		{in: "d:o::r", want: "default:other::r--"},
		{in: "d:bob:rw", want: "default:user:bob:rw-"},
		{in: "u:bob:", want: "user:bob:---"},
		{in: "u:bob:---", want: "user:bob:---"},
		{in: "u::rw", wantErr: "use mode"},
		{in: "g::r", wantErr: "use mode"},
		{in: "o::r", wantErr: "use mode"},
		{in: "rw", wantErr: "must have the form"},
		{in: "a:b:c:d:e", wantErr: "must have the form"},
		{in: "x:u:bob:rw", wantErr: "only d: or default:"},
		{in: "d:d:bob:rw", wantErr: "kind \"d\""},
		{in: "q:bob:rw", wantErr: "kind \"q\""},
		{in: "m:bob:rw", wantErr: "take no name"},
		{in: "o:bob:r", wantErr: "take no name"},
		{in: "u:bob:rwq", wantErr: "'q'"},
		{in: "u:bob:8", wantErr: "'8'"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			a, err := appspec.ParseACE(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseACE(%q) = %v, %v; want an error with %q", tc.in, a, err, tc.wantErr)
				}
				return
			}
			if err != nil || a.String() != tc.want {
				t.Fatalf("ParseACE(%q) = %v, %v; want %s", tc.in, a, err, tc.want)
			}
		})
	}
}
