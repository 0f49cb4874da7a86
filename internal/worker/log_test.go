package worker

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// logSource is a JobSource that records Log calls.
type logSource struct {
	mu     sync.Mutex
	chunks [][]byte
	fail   bool
}

func (s *logSource) Poll(context.Context, cpapi.ActionTypeId, int) ([]*Job, error) { return nil, nil }
func (s *logSource) Acknowledge(context.Context, string, string) error             { return nil }
func (s *logSource) Heartbeat(context.Context, string, string) error               { return nil }
func (s *logSource) Succeed(context.Context, string, *Result) error                { return nil }
func (s *logSource) Fail(context.Context, string, *Failure) error                  { return nil }
func (s *logSource) Wake() <-chan struct{}                                         { return nil }

func (s *logSource) Log(ctx context.Context, id, nonce string, data []byte) error {
	if id != "job-1" || nonce != "nonce-1" {
		return errors.New("wrong job")
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("refused")
	}
	s.chunks = append(s.chunks, bytes.Clone(data))
	return nil
}

func (s *logSource) got() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(bytes.Join(s.chunks, nil)), len(s.chunks)
}

func (s *logSource) each(f func([]byte)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.chunks {
		f(c)
	}
}

var logJob = &Job{ID: "job-1", Nonce: "nonce-1"}

func TestLogWriterFlushesOnTimer(t *testing.T) {
	src := &logSource{}
	w := LogWriter(t.Context(), src, logJob)
	defer w.Close()
	w.Write([]byte("first line\n"))
	w.Write([]byte("second line\n"))
	if text, _ := src.got(); text != "" {
		t.Errorf("sent %q at once, want it buffered", text)
	}
	deadline := time.Now().Add(5 * LogFlushInterval)
	for {
		text, n := src.got()
		if text == "first line\nsecond line\n" {
			if n != 1 {
				t.Errorf("sent in %d chunks, want the two writes batched into 1", n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v the source has %q", 5*LogFlushInterval, text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLogWriterFlushesWhenFull(t *testing.T) {
	src := &logSource{}
	ctx, cancel := context.WithCancel(t.Context())
	w := LogWriter(ctx, src, logJob)
	big := strings.Repeat("x", LogFlushSize+100)
	w.Write([]byte(big))
	if text, _ := src.got(); len(text) != LogFlushSize+100 {
		t.Errorf("a write over %d bytes sent %d bytes at once, want all of it", LogFlushSize, len(text))
	}
	src.each(func(c []byte) {
		if len(c) > LogFlushSize {
			t.Errorf("a chunk of %d bytes, want at most %d", len(c), LogFlushSize)
		}
	})
	// Close sends the rest even after ctx ended (a stopped job's last lines).
	w.Write([]byte("tail\n"))
	cancel()
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if text, _ := src.got(); text != big+"tail\n" {
		t.Errorf("after Close the source has %d bytes, want %d", len(text), len(big)+5)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLogWriterKeepsCharactersWhole(t *testing.T) {
	src := &logSource{}
	w := LogWriter(t.Context(), src, logJob)
	// A write ending inside a character, then a flush on the timer: the
	// partial character waits for its remaining bytes.
	euro := []byte("€") // 3 bytes
	w.Write([]byte("price: "))
	w.Write(euro[:1])
	time.Sleep(3 * LogFlushInterval)
	if text, _ := src.got(); text != "price: " {
		t.Errorf("timer flush sent %q, want the text without the partial character", text)
	}
	w.Write(euro[1:])
	// A large write whose 32 KiB boundary falls inside a character.
	big := strings.Repeat("a", LogFlushSize-1) + strings.Repeat("é", 100)
	w.Write([]byte(big))
	w.Close()
	text, _ := src.got()
	if text != "price: €"+big {
		t.Errorf("the log is not what was written (%d bytes, want %d)", len(text), len("price: €"+big))
	}
	src.each(func(c []byte) {
		if !utf8.Valid(c) {
			t.Errorf("chunk of %d bytes splits a character: ...%q", len(c), c[max(0, len(c)-4):])
		}
	})
}

func TestLogWriterDropsRefusedChunks(t *testing.T) {
	src := &logSource{fail: true}
	w := LogWriter(t.Context(), src, logJob)
	if _, err := w.Write([]byte(strings.Repeat("x", LogFlushSize))); err != nil {
		t.Errorf("Write with a refusing source: %v, want no error (logs are best effort)", err)
	}
	src.mu.Lock()
	src.fail = false
	src.mu.Unlock()
	w.Write([]byte("after\n"))
	w.Close()
	if text, _ := src.got(); text != "after\n" {
		t.Errorf("source has %q, want only what was written after it accepted again", text)
	}
}

func TestJobLogOutput(t *testing.T) {
	var j Job
	if j.LogOutput() == nil {
		t.Fatal("LogOutput of a job without a log is nil")
	}
	var buf bytes.Buffer
	j.Log = &buf
	j.LogOutput().Write([]byte("x"))
	if buf.String() != "x" {
		t.Errorf("LogOutput did not write to Log")
	}
}

// runSource hands out one job and records its log and result.
type runSource struct {
	logSource
	once sync.Once
	done chan string // the log as it was when the result came
	wake chan struct{}
}

func (s *runSource) Poll(context.Context, cpapi.ActionTypeId, int) ([]*Job, error) {
	var out []*Job
	s.once.Do(func() { out = []*Job{{ID: "job-1", Nonce: "nonce-1"}} })
	return out, nil
}

func (s *runSource) Succeed(context.Context, string, *Result) error {
	text, _ := s.got()
	s.done <- text
	return nil
}

func (s *runSource) Wake() <-chan struct{} { return s.wake }

type loggingExecutor struct{}

func (loggingExecutor) Type() cpapi.ActionTypeId {
	return cpapi.ActionTypeId{Category: "Build", Owner: "AWS", Provider: "Test", Version: "1"}
}

func (loggingExecutor) Run(ctx context.Context, j *Job) (*Result, error) {
	j.LogOutput().Write([]byte("built\n"))
	return &Result{}, nil
}

// The Worker gives each job a LogWriter and closes it before it reports
// the result, so the whole log is stored while the job is still the
// worker's.
func TestWorkerWritesLogBeforeResult(t *testing.T) {
	src := &runSource{done: make(chan string, 1)}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w := &Worker{Source: src, Executors: []Executor{loggingExecutor{}}, Poll: 10 * time.Millisecond}
	go w.Run(ctx)
	select {
	case text := <-src.done:
		if text != "built\n" {
			t.Errorf("log when the result was reported = %q, want %q", text, "built\n")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the job was not reported")
	}
}
