package console

import (
	"testing"
	"time"
)

// FuzzDecodeSession: any cookie value is a valid session or a session
// error; nothing forged opens.
func FuzzDecodeSession(f *testing.F) {
	sl := testSealer(&testing.T{}, 7)
	now := time.Unix(1_800_000_000, 0)
	s, err := newSession("AKIDEXAMPLE", now, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	good, err := encodeSession(sl, s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("not base64!")
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, value string) {
		got, err := decodeSession(sl, value, now)
		if err != nil {
			return
		}
		// Only what the key sealed opens (the seeds may come from
		// another fuzzing process, with its own random nonce and CSRF
		// token, but the same key).
		if got.AccessKeyID != "AKIDEXAMPLE" || got.Purpose != sessionPurpose || got.CSRF == "" {
			t.Fatalf("a forged cookie %q opened as %+v", value, got)
		}
	})
}
