package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// sessionPurpose marks sealed values that are console sessions, so that no
// other value sealed under the master key passes for one.
const sessionPurpose = "slipway-console-session/1"

// Sealer seals and opens small values with the installation's master key
// (auth.Sealer). Every server of an installation shares that key, so any
// of them accepts a session another one issued.
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// session is what a session cookie carries.
type session struct {
	Purpose     string `json:"p"`
	AccessKeyID string `json:"k"`
	Expires     int64  `json:"e"` // Unix seconds
	CSRF        string `json:"c"` // the token every state-changing request repeats in a header
}

// errSession is returned for every token that is not a valid, unexpired
// session; the reason is wrapped for logs.
var errSession = errors.New("console: no valid session")

// newSession returns a session for keyID valid until now+ttl, with a fresh
// CSRF token.
func newSession(keyID string, now time.Time, ttl time.Duration) (session, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return session{}, fmt.Errorf("console: make CSRF token: %w", err)
	}
	return session{Purpose: sessionPurpose, AccessKeyID: keyID, Expires: now.Add(ttl).Unix(),
		CSRF: base64.RawURLEncoding.EncodeToString(b[:])}, nil
}

// encodeSession seals s into a cookie value.
func encodeSession(sl Sealer, s session) (string, error) {
	plain, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("console: encode session: %w", err)
	}
	sealed, err := sl.Seal(plain)
	if err != nil {
		return "", fmt.Errorf("console: seal session: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// decodeSession opens a cookie value and checks that it is an unexpired
// session at now.
func decodeSession(sl Sealer, value string, now time.Time) (session, error) {
	if value == "" {
		return session{}, fmt.Errorf("%w: no session cookie", errSession)
	}
	if len(value) > 4096 {
		return session{}, fmt.Errorf("%w: cookie too long", errSession)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return session{}, fmt.Errorf("%w: cookie is not base64url", errSession)
	}
	plain, err := sl.Open(sealed)
	if err != nil {
		return session{}, fmt.Errorf("%w: %w", errSession, err)
	}
	var s session
	if err := json.Unmarshal(plain, &s); err != nil || s.Purpose != sessionPurpose {
		return session{}, fmt.Errorf("%w: not a console session", errSession)
	}
	if s.AccessKeyID == "" || s.CSRF == "" {
		return session{}, fmt.Errorf("%w: incomplete session", errSession)
	}
	if now.Unix() >= s.Expires {
		return session{}, fmt.Errorf("%w: session expired at %s", errSession, time.Unix(s.Expires, 0).UTC().Format(time.RFC3339))
	}
	return s, nil
}

// csrfMatches reports whether the header value repeats the session's CSRF
// token.
func (s session) csrfMatches(header string) bool {
	return header != "" && subtle.ConstantTimeCompare([]byte(header), []byte(s.CSRF)) == 1
}
