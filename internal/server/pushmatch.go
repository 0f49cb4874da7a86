package server

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// This file decides, without any I/O, whether a push starts a pipeline:
// matchPush applies one V2 push filter (GitPushFilter) to a pushed ref and
// the files the push changed; globMatch is the glob language of the filters.

// matchPush reports whether a push of ref (refs/heads/<branch> or
// refs/tags/<tag>) that changed changedFiles (paths relative to the
// repository root) satisfies the push filter f, as CodePipeline evaluates
// trigger filters:
//
//   - A tag push matches a filter with tags whose includes (if any) match
//     the tag name and whose excludes do not. Branches and file paths do not
//     apply to tags.
//   - A branch push matches a filter without tags or with branches, whose
//     branches criteria accept the branch name (absent branches accept
//     every branch) and whose filePaths criteria accept at least one changed
//     file. A filter with only tags never matches a branch push.
//   - In every criteria, excludes take priority over includes: a name an
//     exclude pattern matches is rejected even if an include matches it.
//   - A file path filter needs a changed file that an include pattern (or,
//     without includes, any pattern) accepts and no exclude pattern
//     matches; a push that changed nothing matches no file path filter.
//
// Any other ref (notes, pull request refs) matches nothing. Patterns are
// globs (globMatch); an invalid pattern matches nothing.
func matchPush(f cpapi.GitPushFilter, ref string, changedFiles []string) bool {
	if tag, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		return f.Tags != nil && matchCriteria(f.Tags.Includes, f.Tags.Excludes, tag)
	}
	branch, ok := strings.CutPrefix(ref, "refs/heads/")
	if !ok {
		return false
	}
	if f.Tags != nil && f.Branches == nil {
		return false
	}
	if f.Branches != nil && !matchCriteria(f.Branches.Includes, f.Branches.Excludes, branch) {
		return false
	}
	if f.FilePaths == nil {
		return true
	}
	for _, file := range changedFiles {
		if matchCriteria(f.FilePaths.Includes, f.FilePaths.Excludes, file) {
			return true
		}
	}
	return false
}

// matchCriteria reports whether name passes an includes/excludes pair:
// matched by no exclude, and by an include when there are includes.
func matchCriteria(includes, excludes []string, name string) bool {
	for _, p := range excludes {
		if globMatch(p, name) {
			return false
		}
	}
	if len(includes) == 0 {
		return true
	}
	for _, p := range includes {
		if globMatch(p, name) {
			return true
		}
	}
	return false
}

// globMatch reports whether name matches the glob pattern, in the glob
// language the CodePipeline user guide documents for trigger filters
// ("Working with glob patterns in syntax", which is Java's PathMatcher
// glob):
//
//	pattern  matches
//	*        zero or more characters within one path segment (not "/")
//	**       zero or more characters across segments (including "/")
//	?        exactly one character other than "/"
//	[abc]    one character of a set; [a-z] a range; [!a-c] negated;
//	         inside brackets *, ? and \ are themselves, and "-" first (or
//	         right after "!") is itself
//	{a,b}    any of the comma-separated subpatterns (groups do not nest)
//	\x       the character x itself
//
// The whole name must match. So "src/**/*.go" matches "src/a/b.go" but not
// "src/b.go" (the "/" after ** must be there), "*" matches "main" but not
// "feature/x", and "**" matches everything. A malformed pattern (an
// unclosed [ or {, a nested {, a trailing \) matches nothing.
func globMatch(pattern, name string) bool {
	re, ok := globRegexp(pattern)
	return ok && re.MatchString(name)
}

// globRegexp translates a glob into an anchored regular expression.
func globRegexp(pattern string) (*regexp.Regexp, bool) {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	inGroup := false
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '\\':
			if i+1 == len(pattern) {
				return nil, false
			}
			r, size := utf8.DecodeRuneInString(pattern[i+1:])
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += size
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				b.WriteString(`.*`)
				i++
			} else {
				b.WriteString(`[^/]*`)
			}
		case '?':
			b.WriteString(`[^/]`)
		case '[':
			end, class, ok := globClass(pattern, i)
			if !ok {
				return nil, false
			}
			b.WriteString(class)
			i = end
		case '{':
			if inGroup {
				return nil, false
			}
			inGroup = true
			b.WriteString(`(?:`)
		case '}':
			if !inGroup {
				b.WriteString(`\}`)
				continue
			}
			inGroup = false
			b.WriteString(`)`)
		case ',':
			if inGroup {
				b.WriteString(`|`)
			} else {
				b.WriteString(`,`)
			}
		default:
			// Copy a whole UTF-8 sequence at once.
			j := i + 1
			for j < len(pattern) && pattern[j]&0xC0 == 0x80 {
				j++
			}
			b.WriteString(regexp.QuoteMeta(pattern[i:j]))
			i = j - 1
		}
	}
	if inGroup {
		return nil, false
	}
	b.WriteString(`)$`)
	re, err := regexp.Compile(b.String())
	return re, err == nil
}

// globClass translates the bracket expression starting at pattern[start]
// ("[") into a regexp character class that never matches "/"; it returns
// the index of the closing "]". The first character of the set (after a
// "!") may be "]" or "-", which then stand for themselves, as may a "-"
// right before the closing "]".
func globClass(pattern string, start int) (end int, class string, ok bool) {
	i := start + 1
	negate := i < len(pattern) && pattern[i] == '!'
	if negate {
		i++
	}
	var ranges [][2]rune
	first := true
	for i < len(pattern) {
		r, size := utf8.DecodeRuneInString(pattern[i:])
		if r == ']' && !first {
			return i, classRegexp(ranges, negate), true
		}
		first = false
		i += size
		lo, hi := r, r
		if i+1 < len(pattern) && pattern[i] == '-' && pattern[i+1] != ']' {
			hi, size = utf8.DecodeRuneInString(pattern[i+1:])
			i += 1 + size
			if hi < lo {
				return 0, "", false
			}
		}
		ranges = append(ranges, [2]rune{lo, hi})
	}
	return 0, "", false
}

// classRegexp writes ranges as a regexp class without "/": a positive set
// has "/" cut out of its ranges, a negated one adds "/" to what it rejects.
func classRegexp(ranges [][2]rune, negate bool) string {
	var b strings.Builder
	b.WriteByte('[')
	if negate {
		b.WriteString(`^/`)
	}
	char := func(r rune) {
		if strings.ContainsRune(`\[]^-`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	item := func(lo, hi rune) {
		char(lo)
		if hi != lo {
			b.WriteByte('-')
			char(hi)
		}
	}
	empty := true
	for _, r := range ranges {
		lo, hi := r[0], r[1]
		if !negate && lo <= '/' && '/' <= hi {
			if lo < '/' {
				item(lo, '/'-1)
				empty = false
			}
			if hi > '/' {
				item('/'+1, hi)
				empty = false
			}
			continue
		}
		item(lo, hi)
		empty = false
	}
	if empty && !negate {
		return `[^\x00-\x{10FFFF}]` // matches nothing
	}
	b.WriteByte(']')
	return b.String()
}
