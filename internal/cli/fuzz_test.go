package cli

import "testing"

// FuzzReadPipelineFile: any pipeline file (JSON or YAML) is a declaration
// or an error, never a panic.
func FuzzReadPipelineFile(f *testing.F) {
	f.Add([]byte(`{"pipeline": {"name": "p", "roleArn": "arn:aws:iam::1:role/r", "stages": [{"name": "S", "actions": []}]}}`))
	f.Add([]byte("name: p\nstages:\n  - name: S\n    actions: []\n"))
	f.Add([]byte("a: &a [*a, *a, *a]\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		decl, _, err := readPipelineFile(data)
		if err == nil && decl == nil {
			t.Fatal("no declaration and no error")
		}
	})
}
