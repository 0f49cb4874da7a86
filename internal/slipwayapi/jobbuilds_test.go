package slipwayapi

import (
	"slices"
	"strings"
	"testing"
)

func TestParseWorkerLabels(t *testing.T) {
	many := strings.Repeat("a,", MaxLabelsPerWorker) // 50 times the same label
	var distinct []string
	for i := range MaxLabelsPerWorker + 1 {
		distinct = append(distinct, "l"+strings.Repeat("x", i%60)+string(rune('a'+i%26)))
	}
	for _, tc := range []struct {
		list    string
		want    []string
		problem string
	}{
		{"", nil, ""},
		{" , ,", nil, ""},
		{"gpu", []string{"gpu"}, ""},
		{"gpu, linux ,arm64", []string{"gpu", "linux", "arm64"}, ""},
		{"gpu,gpu,linux", []string{"gpu", "linux"}, ""},
		{"x86_64.v2-fast", []string{"x86_64.v2-fast"}, ""},
		{many, []string{"a"}, ""},
		{"gpu,bad label", nil, `worker label "bad label" must match`},
		{"gpu;linux", nil, `worker label "gpu;linux" must match`},
		{strings.Repeat("a", 65), nil, "must match"},
		{strings.Join(distinct, ","), nil, "at most 50 labels"},
	} {
		got, err := ParseWorkerLabels(tc.list)
		switch {
		case tc.problem != "":
			if err == nil || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("ParseWorkerLabels(%.40q) = %q, %v; want an error containing %q", tc.list, got, err, tc.problem)
			}
		case err != nil || !slices.Equal(got, tc.want):
			t.Errorf("ParseWorkerLabels(%.40q) = %q, %v; want %q", tc.list, got, err, tc.want)
		}
	}
}

func TestJobBuildInputsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   interface{ Validate() error }
		want string // "" for valid
	}{
		{"project ok", &GetJobBuildProjectInput{JobClaim{JobID: "j", Nonce: "n"}}, ""},
		{"project without nonce", &GetJobBuildProjectInput{JobClaim{JobID: "j"}}, "'nonce'"},
		{"number without job", &NextJobBuildNumberInput{JobClaim{Nonce: "n"}}, "'jobId'"},
		{"secret ok", &GetJobSecretInput{JobClaim{JobID: "j", Nonce: "n"}, "prod/db"}, ""},
		{"secret without name", &GetJobSecretInput{JobClaim{JobID: "j", Nonce: "n"}, ""}, "'name'"},
		{"secret with a bad name", &GetJobSecretInput{JobClaim{JobID: "j", Nonce: "n"}, "a b"}, "regular expression"},
	} {
		err := tc.in.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error containing %s", tc.name, err, tc.want)
		}
	}
}
