package worker

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
	"unicode/utf8"
)

// How a LogWriter batches: it sends what it holds every LogFlushInterval,
// and at once when it holds LogFlushSize bytes, so a running build's log
// is readable within a fraction of a second without a request per line.
const (
	LogFlushInterval = 250 * time.Millisecond
	LogFlushSize     = 32 << 10
	// logSendTimeout bounds one send to the JobSource.
	logSendTimeout = 10 * time.Second
)

// errLogClosed is what Write returns after Close.
var errLogClosed = errors.New("worker: write to a closed job log")

// LogWriter returns a writer that appends to the log of job j through
// src.Log. Writes are buffered and sent every LogFlushInterval, or as soon
// as LogFlushSize bytes are waiting (the write then waits for the send,
// which bounds the memory a fast writer can take). Chunks are cut at UTF-8
// character boundaries, so a reader that decodes each chunk as text never
// sees a character split in two. Close sends what is left and stops the
// timer; it must be called before the job's result is reported, since a
// job that has ended takes no more log.
//
// Logs are best effort: a chunk the source refuses (the job was stopped,
// the server is unreachable) is dropped and the writer goes on, so a
// build never fails because its log could not be stored. Sends do not end
// with ctx (only its values are kept), so the last lines of a stopped job
// are still offered.
func LogWriter(ctx context.Context, src JobSource, j *Job) io.WriteCloser {
	w := &logWriter{ctx: context.WithoutCancel(ctx), src: src, job: j, stop: make(chan struct{})}
	w.wg.Add(1)
	go w.loop()
	return w
}

type logWriter struct {
	ctx  context.Context
	src  JobSource
	job  *Job
	stop chan struct{}
	wg   sync.WaitGroup

	send sync.Mutex // held while taking from buf and sending, so chunks stay in order

	mu     sync.Mutex // guards buf and closed
	buf    []byte
	closed bool
}

func (w *logWriter) loop() {
	defer w.wg.Done()
	t := time.NewTicker(LogFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.flush(false)
		}
	}
}

// Write buffers p; it sends at once when LogFlushSize bytes are waiting.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return 0, errLogClosed
	}
	w.buf = append(w.buf, p...)
	full := len(w.buf) >= LogFlushSize
	w.mu.Unlock()
	if full {
		w.flush(false)
	}
	return len(p), nil
}

// Close sends what is left, including an incomplete character at the end.
func (w *logWriter) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	w.wg.Wait()
	w.flush(true)
	return nil
}

// flush sends the buffered bytes in chunks of at most LogFlushSize. Unless
// final, bytes of a character not yet complete stay for the next flush.
func (w *logWriter) flush(final bool) {
	w.send.Lock()
	defer w.send.Unlock()
	w.mu.Lock()
	n := len(w.buf)
	if !final {
		n = completeUTF8(w.buf)
	}
	data := make([]byte, n)
	copy(data, w.buf[:n])
	w.buf = append(w.buf[:0], w.buf[n:]...)
	w.mu.Unlock()
	for len(data) > 0 {
		cut := min(len(data), LogFlushSize)
		if cut < len(data) {
			cut = runeCut(data, cut)
		}
		ctx, cancel := context.WithTimeout(w.ctx, logSendTimeout)
		_ = w.src.Log(ctx, w.job.ID, w.job.Nonce, data[:cut]) // best effort (see LogWriter)
		cancel()
		data = data[cut:]
	}
}

// completeUTF8 returns the length of the longest prefix of b that does not
// end inside a UTF-8 character that more bytes could still complete.
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			return len(b)
		}
	}
	return len(b)
}

// runeCut moves a cut at n of b back to the start of the character it
// falls in (at most UTFMax-1 bytes; bytes that are not UTF-8 are cut
// anywhere).
func runeCut(b []byte, n int) int {
	for i := n; i > 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return i
		}
	}
	return n
}
