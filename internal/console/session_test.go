package console

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/auth"
)

func testSealer(t *testing.T, b byte) *auth.Sealer {
	t.Helper()
	s, err := auth.NewSealer(bytes.Repeat([]byte{b}, auth.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSessionRoundTrip(t *testing.T) {
	sl := testSealer(t, 1)
	now := time.Unix(1_800_000_000, 0)
	s, err := newSession("AKIAEXAMPLEEXAMPLE12", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	value, err := encodeSession(sl, s)
	if err != nil {
		t.Fatal(err)
	}
	otherServer := testSealer(t, 1) // another server of the installation: same master key
	got, err := decodeSession(otherServer, value, now.Add(59*time.Minute))
	if err != nil {
		t.Fatalf("decode on another server: %v", err)
	}
	if got != s {
		t.Errorf("decoded %+v, want %+v", got, s)
	}
	if !got.csrfMatches(s.CSRF) || got.csrfMatches("") || got.csrfMatches(s.CSRF+"x") {
		t.Error("csrfMatches accepts the wrong tokens")
	}
	s2, _ := newSession("AKIAEXAMPLEEXAMPLE12", now, time.Hour)
	if s2.CSRF == s.CSRF {
		t.Error("two sessions share a CSRF token")
	}

	foreign, _ := testSealer(t, 2).Seal([]byte(`{"p":"slipway-console-session/1","k":"AKIAX","e":9999999999,"c":"x"}`))
	notSession, _ := sl.Seal([]byte(`{"p":"something-else","k":"AKIAX","e":9999999999,"c":"x"}`))
	tampered := []byte(value)
	tampered[len(tampered)/2] ^= 1
	for _, tc := range []struct {
		name  string
		value string
		at    time.Time
	}{
		{"empty", "", now},
		{"expired", value, now.Add(time.Hour)},
		{"tampered", string(tampered), now},
		{"not base64", "!!!", now},
		{"other master key", base64.RawURLEncoding.EncodeToString(foreign), now},
		{"sealed value that is not a session", base64.RawURLEncoding.EncodeToString(notSession), now},
		{"too long", string(bytes.Repeat([]byte("A"), 5000)), now},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeSession(sl, tc.value, tc.at); !errors.Is(err, errSession) {
				t.Errorf("decodeSession = %v, want errSession", err)
			}
		})
	}
}

func TestStreamStart(t *testing.T) {
	for _, tc := range []struct {
		last, after string
		want        int64
		err         bool
	}{
		{"", "", -1, false},
		{"", "7", 7, false},
		{"12", "7", 12, false},
		{"0", "", 0, false},
		{"x", "", 0, true},
		{"", "-3", 0, true},
	} {
		got, err := streamStart(tc.last, tc.after)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("streamStart(%q, %q) = %d, %v; want %d (error %v)", tc.last, tc.after, got, err, tc.want, tc.err)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		origin, site string
		want         bool
	}{
		{"", "", true},
		{"http://console.example:7700", "same-origin", true},
		{"http://CONSOLE.example:7700", "", true},
		{"http://evil.example", "", false},
		{"http://console.example:7701", "", false},
		{"null", "", false},
		{"", "cross-site", false},
		{"", "same-site", false},
	} {
		r := httptest.NewRequest("POST", "http://console.example:7700/console/api", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.site != "" {
			r.Header.Set("Sec-Fetch-Site", tc.site)
		}
		if got := sameOrigin(r); got != tc.want {
			t.Errorf("sameOrigin(Origin %q, Sec-Fetch-Site %q) = %v, want %v", tc.origin, tc.site, got, tc.want)
		}
	}
}
