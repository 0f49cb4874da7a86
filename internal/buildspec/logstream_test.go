package buildspec

import (
	"bytes"
	"strings"
	"testing"
)

func TestRedactorAcrossWrites(t *testing.T) {
	t.Parallel()
	secret := "s3cr3t-value"
	stream := "start " + secret + " middle " + secret + secret + " end\npartial " + secret
	// Every split of the stream into two writes must redact both copies.
	for cut := 0; cut <= len(stream); cut++ {
		var out bytes.Buffer
		r := newRedactor(&out, []string{secret, ""})
		_, _ = r.Write([]byte(stream[:cut]))
		_, _ = r.Write([]byte(stream[cut:]))
		r.Flush()
		want := "start *** middle ****** end\npartial ***"
		if out.String() != want {
			t.Fatalf("cut %d: %q, want %q", cut, out.String(), want)
		}
	}
}

func TestRedactorStreamsSafePrefix(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := newRedactor(&out, []string{"abcdef"})
	_, _ = r.Write([]byte("progress.....ab"))
	if got := out.String(); got != "progress....." {
		t.Fatalf("wrote %q before the newline", got)
	}
	_, _ = r.Write([]byte("cdef done"))
	r.Flush()
	if got := out.String(); got != "progress.....*** done" {
		t.Fatalf("got %q", got)
	}
}

func TestRedactorWithoutSecretsPassesThrough(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := newRedactor(&out, nil)
	_, _ = r.Write([]byte("no newline"))
	if out.String() != "no newline" {
		t.Fatalf("got %q", out.String())
	}
}

func TestRedactorMultiLineAndOverlapping(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := newRedactor(&out, []string{"key-one\nkey-two", "abc", "abcd"})
	_, _ = r.Write([]byte("key-two\nx abcd abc key-one\n"))
	r.Flush()
	if got, want := out.String(), "***\nx *** *** ***\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestTailKeepsLastLines(t *testing.T) {
	t.Parallel()
	var tl tail
	for i := 0; i < 500; i++ {
		_, _ = tl.Write([]byte(strings.Repeat("x", 20) + "\n"))
	}
	_, _ = tl.Write([]byte("the end\n"))
	got := tl.String()
	if len(got) > tailSize || !strings.HasSuffix(got, "the end\n") || !strings.HasPrefix(got, "xxxx") {
		t.Fatalf("tail (%d bytes) %q", len(got), got[:40])
	}
}
