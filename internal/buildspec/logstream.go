package buildspec

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	// redactMask replaces secret values in the log.
	redactMask = "***"
	// tailSize is the size of Result.LogTail.
	tailSize = 2048
	// drainGrace is how long the log reader keeps reading after the build
	// ended, for output of processes that escaped the process group.
	drainGrace = 2 * time.Second
)

// redactor replaces secret values with *** in a byte stream. It writes as
// soon as it can prove that no secret straddles the written part, holding
// back only a tail that could still grow into a secret, so output without
// newlines (progress bars) still streams.
type redactor struct {
	secrets []string // longest first
	out     io.Writer
	buf     []byte
}

// newRedactor returns a redactor writing to out. Multi-line secrets are
// also redacted line by line, because the log is processed in pieces.
func newRedactor(out io.Writer, secrets []string) *redactor {
	set := map[string]bool{}
	for _, s := range secrets {
		for _, part := range secretParts(s) {
			set[part] = true
		}
	}
	r := &redactor{out: out}
	for s := range set {
		r.secrets = append(r.secrets, s)
	}
	sort.Slice(r.secrets, func(i, j int) bool {
		if len(r.secrets[i]) != len(r.secrets[j]) {
			return len(r.secrets[i]) > len(r.secrets[j])
		}
		return r.secrets[i] < r.secrets[j]
	})
	return r
}

// secretParts returns the strings to redact for secret value s: the value
// and, for a multi-line value, each non-blank line.
func secretParts(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	parts := []string{s}
	if strings.ContainsAny(s, "\r\n") {
		for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if l = strings.TrimSpace(l); l != "" {
				parts = append(parts, l)
			}
		}
	}
	return parts
}

// redact replaces every secret in b.
func (r *redactor) redact(b []byte) []byte {
	for _, s := range r.secrets {
		b = bytes.ReplaceAll(b, []byte(s), []byte(redactMask))
	}
	return b
}

// redactString replaces every secret in s.
func (r *redactor) redactString(s string) string {
	return string(r.redact([]byte(s)))
}

// Write buffers p, then writes every complete line and the safe part of an
// incomplete one.
func (r *redactor) Write(p []byte) (int, error) {
	r.buf = append(r.buf, p...)
	if i := bytes.LastIndexByte(r.buf, '\n'); i >= 0 {
		r.emit(i + 1)
	}
	r.emit(r.safeCut())
	return len(p), nil
}

// Flush writes everything still buffered.
func (r *redactor) Flush() {
	r.emit(len(r.buf))
}

// emit redacts and writes r.buf[:n] and keeps the rest.
func (r *redactor) emit(n int) {
	if n <= 0 {
		return
	}
	out := r.redact(append([]byte(nil), r.buf[:n]...))
	_, _ = r.out.Write(out)
	r.buf = append(r.buf[:0], r.buf[n:]...)
}

// safeCut returns the length of the prefix of r.buf that can be written:
// it stops before a trailing part that may be the start of a secret and
// before any secret that straddles the cut.
func (r *redactor) safeCut() int {
	cut := len(r.buf)
	for _, s := range r.secrets {
		for k := min(len(s)-1, len(r.buf)); k > 0; k-- {
			if bytes.HasSuffix(r.buf, []byte(s[:k])) {
				cut = min(cut, len(r.buf)-k)
				break
			}
		}
	}
	for moved := true; moved; {
		moved = false
		for _, s := range r.secrets {
			if start := straddling(r.buf, []byte(s), cut); start >= 0 {
				cut, moved = start, true
			}
		}
	}
	return cut
}

// straddling returns the start of an occurrence of s in buf that begins
// before cut and ends after it, or -1.
func straddling(buf, s []byte, cut int) int {
	from := max(0, cut-len(s)+1)
	for from < cut {
		i := bytes.Index(buf[from:], s)
		if i < 0 || from+i >= cut {
			return -1
		}
		if start := from + i; start+len(s) > cut {
			return start
		}
		from += i + 1
	}
	return -1
}

// tail keeps the last bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

// Write appends p, keeping at most tailSize bytes.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(p), nil
}

// String returns the tail, starting at a line boundary when one is near.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return tailLines(string(t.buf), tailSize)
}

// sink is the build's log writer: it forwards to the caller's writer and
// ignores its errors after the first, so that a failing log store never
// blocks a build.
type sink struct {
	w      io.Writer
	failed bool
}

// Write forwards p unless an earlier write failed.
func (s *sink) Write(p []byte) (int, error) {
	if !s.failed {
		if _, err := s.w.Write(p); err != nil {
			s.failed = true
		}
	}
	return len(p), nil
}

// logPipe carries everything the build writes (command output and the
// runner's [Container] lines, in order) through one pipe to a reader
// goroutine that redacts it and writes it to the log and the tail.
type logPipe struct {
	r, w *os.File
	red  *redactor
	tail *tail
	done chan struct{}
}

// newLogPipe starts the reader goroutine.
func newLogPipe(log io.Writer, secrets []string) (*logPipe, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	t := &tail{}
	lp := &logPipe{r: r, w: w, tail: t, done: make(chan struct{})}
	lp.red = newRedactor(io.MultiWriter(&sink{w: log}, t), secrets)
	go lp.read()
	return lp, nil
}

// read copies the pipe into the redactor until EOF or the read deadline.
func (lp *logPipe) read() {
	defer close(lp.done)
	buf := make([]byte, 32<<10)
	for {
		n, err := lp.r.Read(buf)
		if n > 0 {
			_, _ = lp.red.Write(buf[:n])
		}
		if err != nil {
			lp.red.Flush()
			return
		}
	}
}

// close closes the write end and waits for the reader to drain the pipe,
// at most drainGrace when other processes still hold the write end.
func (lp *logPipe) close() {
	_ = lp.w.Close()
	if err := lp.r.SetReadDeadline(time.Now().Add(drainGrace)); err != nil && !errors.Is(err, os.ErrNoDeadline) {
		_ = lp.r.Close()
	}
	<-lp.done
	_ = lp.r.Close()
}
