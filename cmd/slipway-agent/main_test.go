package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVersionAndBadConfig(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	if code := run([]string{"--version"}, &out); code != 0 || !strings.Contains(out.String(), "slipway-agent") {
		t.Fatalf("--version: %d %q", code, out.String())
	}
	cfg := filepath.Join(t.TempDir(), "agent.yml")
	os.WriteFile(cfg, []byte("endpoint: http://127.0.0.1:1\n"), 0o600)
	out.Reset()
	if code := run([]string{"--config", cfg}, &out); code != 2 || !strings.Contains(out.String(), "no credentials") {
		t.Fatalf("bad config: %d %q", code, out.String())
	}
}
