package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/store"
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"
	amzDateFmt = "20060102T150405Z"
	// MaxClockSkew is how far a request's X-Amz-Date may be from the
	// server's clock, in either direction (as on AWS).
	MaxClockSkew = 15 * time.Minute
)

var _ awsproto.Authenticator = (*Verifier)(nil)

// Verifier checks AWS Signature Version 4 (AWS4-HMAC-SHA256) signatures in
// the Authorization header. It implements awsproto.Authenticator.
//
// Failures are *awsproto.Error values with AWS's codes and messages, all
// with HTTP status 400. AWS itself uses 403 for some of these codes on some
// services. The status makes no difference to clients: botocore and
// aws-sdk-go-v2 treat every non-2xx status as an error and take its code
// from X-Amzn-ErrorType or __type. 400 matches the other awsproto errors.
//
// Not supported, and rejected with a clear message: query-string
// (presigned) authentication, SigV4a, a Date header in place of X-Amz-Date
// (every SDK sends X-Amz-Date), and session tokens other than those of job
// keys (JobKeys): with any other key, an X-Amz-Security-Token is invalid.
type Verifier struct {
	// Keys resolves access key IDs to secrets and identities.
	Keys *Keys
	// JobKeys, when set, resolves job key IDs (JobKeyPrefix) and limits
	// their requests to their job (see jobkeys.go).
	JobKeys *JobKeys
	// Logger receives one Info record per failed authentication, with the
	// access key ID and the error code only. Nil discards.
	Logger *slog.Logger
	// Now is the server clock; nil means time.Now.
	Now func() time.Time
}

// authorization is a parsed Authorization header.
type authorization struct {
	keyID, date, region, service, terminator string // the Credential scope
	signedHeaders                            []string
	signature                                string
}

// Authenticate verifies r, whose body has already been read into body,
// for the service whose SigV4 signing name is signingName.
func (v *Verifier) Authenticate(r *http.Request, body []byte, signingName string) (awsproto.Caller, error) {
	keyID, caller, err := v.authenticate(r, body, signingName)
	if e := awsproto.AsError(err); e != nil && v.Logger != nil {
		if len(keyID) > 128 {
			keyID = keyID[:128]
		}
		v.Logger.Info("authentication failed", "access_key_id", keyID, "code", e.Code)
	}
	return caller, err
}

func (v *Verifier) authenticate(r *http.Request, body []byte, signingName string) (keyID string, _ awsproto.Caller, _ error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		q := r.URL.Query()
		if q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential") {
			return "", awsproto.Caller{}, incomplete("query-string (presigned) authentication is not supported; sign the request with an Authorization header")
		}
		return "", awsproto.Caller{}, awsproto.Errorf(awsproto.MissingAuthenticationTokenException, "Request is missing Authentication Token")
	}
	a, err := parseAuthorization(header)
	if err != nil {
		return "", awsproto.Caller{}, err
	}
	if err := v.checkRequest(r, &a, body, signingName); err != nil {
		return a.keyID, awsproto.Caller{}, err
	}

	var secret []byte
	var caller awsproto.Caller
	var jobKey *store.JobKey
	if v.isJobKey(a.keyID) {
		secret, caller, jobKey, err = v.JobKeys.lookup(r.Context(), a.keyID)
	} else {
		secret, caller, err = v.Keys.Lookup(r.Context(), a.keyID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return a.keyID, awsproto.Caller{}, awsproto.Errorf(awsproto.UnrecognizedClientException, "The security token included in the request is invalid.")
	}
	if err != nil {
		return a.keyID, awsproto.Caller{}, fmt.Errorf("auth: verify request: %w", err)
	}
	want := signature(secret, &a, stringToSign(r, &a, hexSHA256(body)))
	clear(secret)
	got, err := hex.DecodeString(a.signature)
	if err != nil || !hmac.Equal(got, want) {
		return a.keyID, awsproto.Caller{}, invalid("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	if jobKey != nil {
		if err := v.JobKeys.authorize(r, body, jobKey, caller); err != nil {
			return a.keyID, awsproto.Caller{}, err
		}
	}
	return a.keyID, caller, nil
}

// isJobKey reports whether keyID is resolved by JobKeys.
func (v *Verifier) isJobKey(keyID string) bool { return v.JobKeys != nil && IsJobKeyID(keyID) }

// checkRequest runs the checks that need no secret.
func (v *Verifier) checkRequest(r *http.Request, a *authorization, body []byte, signingName string) error {
	if r.Header.Get("X-Amz-Security-Token") != "" && !v.isJobKey(a.keyID) {
		return awsproto.Errorf(awsproto.UnrecognizedClientException, "The security token included in the request is invalid. Slipway issues no session tokens: sign with a Slipway access key and no session token (unset AWS_SESSION_TOKEN).")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return incomplete("Authorization header requires existence of an 'X-Amz-Date' header.")
	}
	signed, err := time.Parse(amzDateFmt, amzDate)
	if err != nil {
		return incomplete("X-Amz-Date must be in ISO 8601 basic format, e.g. 20260102T150405Z.")
	}
	switch {
	case a.terminator != terminator:
		return invalid("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", clip(a.terminator))
	case a.service != signingName:
		return invalid("Credential should be scoped to correct service: '%s'.", signingName)
	case a.date != amzDate[:8]:
		return invalid("Date in Credential scope does not match YYYYMMDD from X-Amz-Date: '%s' != '%s'.", clip(a.date), amzDate[:8])
	case !slices.Contains(a.signedHeaders, "host"):
		return incomplete("'Host' must be a signed header (listed in SignedHeaders).")
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC()
	if earliest := t.Add(-MaxClockSkew); signed.Before(earliest) {
		return invalid("Signature expired: %s is now earlier than %s (%s - 15 min.)", amzDate, earliest.Format(amzDateFmt), t.Format(amzDateFmt))
	}
	if latest := t.Add(MaxClockSkew); signed.After(latest) {
		return invalid("Signature not yet current: %s is still later than %s (%s + 15 min.)", amzDate, latest.Format(amzDateFmt), t.Format(amzDateFmt))
	}
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != hexSHA256(body) {
		return invalid("The x-amz-content-sha256 header does not match the SHA-256 of the request body; this service requires signed payloads.")
	}
	return nil
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
// SignedHeaders=a;b, Signature=hex". Failures are IncompleteSignatureException.
func parseAuthorization(header string) (authorization, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(header), " ")
	if alg != algorithm {
		return authorization{}, incomplete("Authorization header must use the %s algorithm: '%s Credential=..., SignedHeaders=..., Signature=...'.", algorithm, algorithm)
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		if _, dup := params[k]; dup {
			return authorization{}, incomplete("Authorization header has more than one '%s' parameter.", clip(k))
		}
		params[k] = val
	}
	var missing []string
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if params[k] == "" {
			missing = append(missing, "Authorization header requires '"+k+"' parameter.")
		}
	}
	if missing != nil {
		return authorization{}, incomplete("%s", strings.Join(missing, " "))
	}
	cred := strings.Split(params["Credential"], "/")
	if len(cred) != 5 || slices.Contains(cred, "") {
		return authorization{}, incomplete("Credential must have exactly 5 non-empty slash-delimited elements (keyID/YYYYMMDD/region/service/aws4_request), found %d.", len(cred))
	}
	a := authorization{keyID: cred[0], date: cred[1], region: cred[2], service: cred[3], terminator: cred[4],
		signedHeaders: strings.Split(params["SignedHeaders"], ";"), signature: params["Signature"]}
	if slices.Contains(a.signedHeaders, "") {
		return authorization{}, incomplete("SignedHeaders must be a ';'-separated list of header names.")
	}
	return a, nil
}

// stringToSign builds the SigV4 string to sign from the request as received.
func stringToSign(r *http.Request, a *authorization, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(canonicalURI(r.URL) + "\n")
	b.WriteString(canonicalQuery(r.URL.RawQuery) + "\n")
	for _, name := range a.signedHeaders {
		b.WriteString(name + ":" + headerValue(r, name) + "\n")
	}
	b.WriteString("\n" + strings.Join(a.signedHeaders, ";") + "\n" + payloadHash)
	scope := strings.Join([]string{a.date, a.region, a.service, a.terminator}, "/")
	return algorithm + "\n" + r.Header.Get("X-Amz-Date") + "\n" + scope + "\n" + hexSHA256([]byte(b.String()))
}

// signature derives the signing key from secret and the credential scope
// and signs stringToSign with it.
func signature(secret []byte, a *authorization, stringToSign string) []byte {
	k := hmacSHA256(append([]byte("AWS4"), secret...), a.date)
	for _, part := range []string{a.region, a.service, a.terminator, stringToSign} {
		k = hmacSHA256(k, part)
	}
	return k
}

// canonicalURI URI-encodes the path as sent, a second time, as every
// service but S3 expects.
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	return uriEncode(p, false)
}

// canonicalQuery sorts the query parameters by name, then value, each
// URI-encoded.
func canonicalQuery(raw string) string {
	var pairs []string
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		pairs = append(pairs, uriEncode(unescape(k), true)+"="+uriEncode(unescape(v), true))
	}
	slices.SortFunc(pairs, func(x, y string) int { // by name, then by value
		xk, xv, _ := strings.Cut(x, "=")
		yk, yv, _ := strings.Cut(y, "=")
		if c := strings.Compare(xk, yk); c != 0 {
			return c
		}
		return strings.Compare(xv, yv)
	})
	return strings.Join(pairs, "&")
}

// headerValue returns the canonical value of a signed header: its values
// with runs of whitespace collapsed, joined by commas. Go's server moves
// Host and sometimes Content-Length out of r.Header.
func headerValue(r *http.Request, name string) string {
	values := r.Header.Values(name)
	switch {
	case name == "host":
		values = []string{r.Host}
	case name == "content-length" && len(values) == 0 && r.ContentLength >= 0:
		values = []string{strconv.FormatInt(r.ContentLength, 10)}
	}
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// uriEncode percent-encodes every byte except the unreserved characters
// A-Z a-z 0-9 - _ . ~ and, unless encodeSlash, '/'.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func incomplete(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf(awsproto.IncompleteSignatureException, format, args...)
}

func invalid(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf(awsproto.InvalidSignatureException, format, args...)
}

// clip bounds client-supplied text echoed in error messages.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
