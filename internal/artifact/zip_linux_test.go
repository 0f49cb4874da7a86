package artifact

import (
	"bytes"
	"path/filepath"
	"syscall"
	"testing"
)

func TestZipRefusesFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	var buf bytes.Buffer
	wantEntryErr(t, Zip(dir, &buf), ErrUnsupportedEntry, "pipe", "cannot be archived")
}
