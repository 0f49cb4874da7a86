package appspec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Find returns the path of the AppSpec file at the root of the unpacked
// bundle bundleDir. Like the agent with the default AppSpecFilename
// (command_executor.rb app_spec_real_path; api.md §6.9), it takes
// appspec.yml and falls back to appspec.yaml, so appspec.yml wins when both
// exist. Unlike the agent, it does not follow a symbolic link: the file
// must be a regular file inside the bundle. When neither file exists the
// error wraps fs.ErrNotExist; the agent reports that case as
// DiagnosticUnknownError.
func Find(bundleDir string) (string, error) {
	for _, name := range []string{DefaultFilename, AlternateFilename} {
		p := filepath.Join(bundleDir, name)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", err
		case fi.Mode()&fs.ModeSymlink != 0:
			return "", fmt.Errorf("%s is a symbolic link; put the AppSpec file itself at the root of the bundle", p)
		case fi.Mode().IsRegular():
			return p, nil
		}
	}
	return "", fmt.Errorf("no %s (or %s) at the root of the bundle %s; the AppSpec file must "+
		"be at the top level of the revision, next to the scripts it names: %w",
		DefaultFilename, AlternateFilename, bundleDir, fs.ErrNotExist)
}
