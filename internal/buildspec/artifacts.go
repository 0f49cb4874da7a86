package buildspec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// noArtifactFiles is CodeBuild's UPLOAD_ARTIFACTS failure when the
// artifact patterns match no file.
const noArtifactFiles = "CLIENT_ERROR: no matching artifact paths found"

// fileEntry is a file found under a base directory.
type fileEntry struct {
	rel     string // slash-separated, relative to the base directory
	symlink bool
}

// matchGlob reports whether the slash-separated relative path name matches
// pattern, where * and ? stay inside one path element and a ** element
// matches zero or more elements. Leading dots are not special, so **/*
// includes hidden files, as in CodeBuild.
func matchGlob(pattern, name string) bool {
	return matchElems(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

// matchElems matches pattern elements against path elements.
func matchElems(pat, elems []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 0 && pat[0] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for i := range len(elems) + 1 {
				if matchElems(pat, elems[i:]) {
					return true
				}
			}
			return false
		}
		if len(elems) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], elems[0]); err != nil || !ok {
			return false
		}
		pat, elems = pat[1:], elems[1:]
	}
	return len(elems) == 0
}

// hasMeta reports whether pattern uses glob syntax.
func hasMeta(pattern string) bool { return strings.ContainsAny(pattern, `*?[\`) }

// matchFile reports whether a file matches pattern: the pattern matches
// its path, or names one of its directories (a literal path or a pattern
// ending in "/" selects everything below the directory).
func matchFile(pattern, rel string) bool {
	if matchGlob(pattern, rel) {
		return true
	}
	dirLike := strings.HasSuffix(pattern, "/") || !hasMeta(pattern)
	if !dirLike {
		return false
	}
	return matchAncestor(strings.TrimSuffix(pattern, "/"), rel)
}

// matchAncestor reports whether pattern matches a directory above rel.
func matchAncestor(pattern, rel string) bool {
	for i := range len(rel) {
		if rel[i] == '/' && matchGlob(pattern, rel[:i]) {
			return true
		}
	}
	return false
}

// excluded reports whether an exclude-paths pattern matches the file or
// one of its directories.
func excluded(excludes []string, rel string) bool {
	for _, p := range excludes {
		p = strings.TrimSuffix(p, "/")
		if matchGlob(p, rel) || matchAncestor(p, rel) {
			return true
		}
	}
	return false
}

// walkFiles lists the regular files and symbolic links below dir.
// Symbolic links to directories are listed, not followed.
func walkFiles(dir string) ([]fileEntry, error) {
	var out []fileEntry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		t := d.Type()
		if !t.IsRegular() && t&fs.ModeSymlink == 0 {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, fileEntry{rel: filepath.ToSlash(rel), symlink: t&fs.ModeSymlink != 0})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	return out, nil
}

// baseDirs returns the directories (relative to srcDir) that a
// base-directory value names; it may be a glob.
func baseDirs(srcDir, base string) ([]string, error) {
	if base == "" {
		return []string{""}, nil
	}
	if !hasMeta(base) {
		st, err := os.Stat(filepath.Join(srcDir, filepath.FromSlash(base)))
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("CLIENT_ERROR: no matching base directory path found for %s", base)
		}
		return []string{base}, nil
	}
	var out []string
	err := filepath.WalkDir(srcDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == srcDir {
			return err
		}
		rel, _ := filepath.Rel(srcDir, p)
		if matchGlob(base, filepath.ToSlash(rel)) {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", srcDir, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("CLIENT_ERROR: no matching base directory path found for %s", base)
	}
	return out, nil
}

// selectFiles returns, for one base directory, the files matching a files
// pattern and no exclude pattern, and the patterns that matched nothing.
func selectFiles(files []fileEntry, patterns, excludes []string) ([]fileEntry, []string) {
	used := make([]bool, len(patterns))
	var out []fileEntry
	for _, f := range files {
		hit := false
		for i, p := range patterns {
			if matchFile(p, f.rel) {
				used[i], hit = true, true
			}
		}
		if hit && !excluded(excludes, f.rel) {
			out = append(out, f)
		}
	}
	var unused []string
	for i, p := range patterns {
		if !used[i] {
			unused = append(unused, p)
		}
	}
	return out, unused
}

// resolveArtifact lists the files of one artifact. It returns warnings
// for the log, and an error when nothing matched.
func resolveArtifact(srcDir string, spec ArtifactSpec) ([]ArtifactFile, []string, error) {
	bases, err := baseDirs(srcDir, spec.BaseDirectory)
	if err != nil {
		return nil, nil, err
	}
	byDest := map[string]ArtifactFile{}
	var warnings []string
	for _, base := range bases {
		files, err := walkFiles(filepath.Join(srcDir, filepath.FromSlash(base)))
		if err != nil {
			return nil, nil, err
		}
		chosen, unused := selectFiles(files, spec.Files, spec.ExcludePaths)
		for _, p := range unused {
			warnings = append(warnings, fmt.Sprintf("Skipping invalid file path %s", path.Join(base, p)))
		}
		for _, f := range chosen {
			af := ArtifactFile{Source: path.Join(base, f.rel), Dest: f.rel, Symlink: f.symlink}
			if spec.DiscardPaths {
				af.Dest = path.Base(f.rel)
			}
			if prev, dup := byDest[af.Dest]; dup && prev.Source != af.Source {
				warnings = append(warnings, fmt.Sprintf("Skipping %s: %s is already in the artifact as %s", af.Source, prev.Source, af.Dest))
				continue
			}
			byDest[af.Dest] = af
		}
	}
	if len(byDest) == 0 {
		return nil, warnings, errors.New(noArtifactFiles)
	}
	out := make([]ArtifactFile, 0, len(byDest))
	for _, af := range byDest {
		out = append(out, af)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dest < out[j].Dest })
	return out, warnings, nil
}
