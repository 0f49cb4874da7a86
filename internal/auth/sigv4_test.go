package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/slipway-cd/slipway/internal/awsproto"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// signing says how a test request is signed.
type signing struct {
	id, secret, token string
	service, region   string
	at                time.Time
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func newTestRequest(target string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://slipway.example:8443/", bytes.NewReader(body))
	r.Header.Set("Content-Type", awsproto.ContentType)
	r.Header.Set("X-Amz-Target", target)
	return r
}

func signRequest(t *testing.T, r *http.Request, body []byte, s signing) {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: s.id, SecretAccessKey: s.secret, SessionToken: s.token}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, sha256Hex(body), s.service, s.region, s.at); err != nil {
		t.Fatal(err)
	}
}

// editAuth rewrites the Authorization header with re → repl.
func editAuth(r *http.Request, re, repl string) {
	r.Header.Set("Authorization", regexp.MustCompile(re).ReplaceAllString(r.Header.Get("Authorization"), repl))
}

func TestVerifier(t *testing.T) {
	t.Parallel()
	type testCase struct {
		name     string
		before   func(r *http.Request, s *signing) // nil: sign as is
		after    func(r *http.Request, body *[]byte)
		unsigned bool
		code     string // "" means success
		msg      string // prefix of the expected message
	}
	const mismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."
	const badToken = "The security token included in the request is invalid."
	cases := []testCase{
		{name: "valid"},
		{name: "valid with query string", before: func(r *http.Request, _ *signing) {
			r.URL.RawQuery = "b=2&a=z&a=1&msg=hello%20world"
		}},
		{name: "valid with content sha256", before: func(r *http.Request, _ *signing) {
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte(`{"maxResults":10}`)))
		}},
		{name: "valid 14 minutes old", before: func(_ *http.Request, s *signing) { s.at = testNow.Add(-14 * time.Minute) }},
		{name: "valid 14 minutes ahead", before: func(_ *http.Request, s *signing) { s.at = testNow.Add(14 * time.Minute) }},
		{name: "valid other region", before: func(_ *http.Request, s *signing) { s.region = "eu-west-3" }},
		{name: "tampered body", after: func(_ *http.Request, body *[]byte) { *body = []byte(`{"maxResults":11}`) },
			code: awsproto.InvalidSignatureException, msg: mismatch},
		{name: "tampered header value", after: func(r *http.Request, _ *[]byte) { r.Header.Set("Content-Type", "application/json") },
			code: awsproto.InvalidSignatureException, msg: mismatch},
		{name: "tampered target", after: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Target", "CodePipeline_20150709.DeletePipeline") },
			code: awsproto.InvalidSignatureException, msg: mismatch},
		{name: "tampered host", after: func(r *http.Request, _ *[]byte) { r.Host = "evil.example:8443" },
			code: awsproto.InvalidSignatureException, msg: mismatch},
		{name: "tampered query", after: func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "a=2" },
			code: awsproto.InvalidSignatureException, msg: mismatch},
		{name: "tampered signature", after: func(r *http.Request, _ *[]byte) {
			editAuth(r, `Signature=[0-9a-f]{8}`, "Signature=00000000")
		}, code: awsproto.InvalidSignatureException, msg: mismatch},
		{name: "signature not hex", after: func(r *http.Request, _ *[]byte) { editAuth(r, `Signature=\S+`, "Signature=xyz") },
			code: awsproto.InvalidSignatureException, msg: mismatch},
		{name: "wrong secret", before: func(_ *http.Request, s *signing) { s.secret = strings.Repeat("A", 40) },
			code: awsproto.InvalidSignatureException, msg: mismatch},
		{name: "unknown key", before: func(_ *http.Request, s *signing) { s.id = "AKIAZZZZZZZZZZZZZZZZ" },
			code: awsproto.UnrecognizedClientException, msg: badToken},
		{name: "malformed key id", before: func(_ *http.Request, s *signing) { s.id = "nope" },
			code: awsproto.UnrecognizedClientException, msg: badToken},
		{name: "session token", before: func(_ *http.Request, s *signing) { s.token = "FwoGZXIvYXdzEXAMPLE" },
			code: awsproto.UnrecognizedClientException, msg: badToken + " Slipway issues no session tokens"},
		{name: "expired", before: func(_ *http.Request, s *signing) { s.at = testNow.Add(-16 * time.Minute) },
			code: awsproto.InvalidSignatureException,
			msg:  "Signature expired: 20261122T114400Z is now earlier than 20261122T114500Z (20261122T120000Z - 15 min.)"},
		{name: "future", before: func(_ *http.Request, s *signing) { s.at = testNow.Add(16 * time.Minute) },
			code: awsproto.InvalidSignatureException,
			msg:  "Signature not yet current: 20261122T121600Z is still later than 20261122T121500Z (20261122T120000Z + 15 min.)"},
		{name: "wrong service scope", before: func(_ *http.Request, s *signing) { s.service = "s3" },
			code: awsproto.InvalidSignatureException, msg: "Credential should be scoped to correct service: '"},
		{name: "wrong terminator", after: func(r *http.Request, _ *[]byte) { editAuth(r, `/aws4_request`, "/aws4_reqest") },
			code: awsproto.InvalidSignatureException, msg: "Credential should be scoped with a valid terminator"},
		{name: "scope date mismatch", after: func(r *http.Request, _ *[]byte) { editAuth(r, `/20261122/`, "/20261121/") },
			code: awsproto.InvalidSignatureException, msg: "Date in Credential scope does not match"},
		{name: "content sha256 mismatch", before: func(r *http.Request, _ *signing) {
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte("other")))
		}, code: awsproto.InvalidSignatureException, msg: "The x-amz-content-sha256 header does not match"},
		{name: "missing Signature", after: func(r *http.Request, _ *[]byte) { editAuth(r, `, Signature=\S+`, "") },
			code: awsproto.IncompleteSignatureException, msg: "Authorization header requires 'Signature' parameter."},
		{name: "missing Credential", after: func(r *http.Request, _ *[]byte) { editAuth(r, `Credential=[^,]+, `, "") },
			code: awsproto.IncompleteSignatureException, msg: "Authorization header requires 'Credential' parameter."},
		{name: "missing SignedHeaders", after: func(r *http.Request, _ *[]byte) { editAuth(r, `SignedHeaders=[^,]+, `, "") },
			code: awsproto.IncompleteSignatureException, msg: "Authorization header requires 'SignedHeaders' parameter."},
		{name: "credential with four parts", after: func(r *http.Request, _ *[]byte) { editAuth(r, `/aws4_request`, "") },
			code: awsproto.IncompleteSignatureException, msg: "Credential must have exactly 5"},
		{name: "duplicate parameter", after: func(r *http.Request, _ *[]byte) { editAuth(r, `$`, ", Signature=00") },
			code: awsproto.IncompleteSignatureException, msg: "Authorization header has more than one 'Signature' parameter."},
		{name: "host not signed", after: func(r *http.Request, _ *[]byte) {
			editAuth(r, `SignedHeaders=[^,]+`, "SignedHeaders=x-amz-date;x-amz-target")
		},
			code: awsproto.IncompleteSignatureException, msg: "'Host' must be a signed header"},
		{name: "missing X-Amz-Date", after: func(r *http.Request, _ *[]byte) { r.Header.Del("X-Amz-Date") },
			code: awsproto.IncompleteSignatureException, msg: "Authorization header requires existence of an 'X-Amz-Date' header."},
		{name: "malformed X-Amz-Date", after: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Date", "Sun, 22 Nov 2026 12:00:00 GMT") },
			code: awsproto.IncompleteSignatureException, msg: "X-Amz-Date must be in ISO 8601 basic format"},
		{name: "garbage Authorization", after: func(r *http.Request, _ *[]byte) { r.Header.Set("Authorization", "Bearer abc.def") },
			code: awsproto.IncompleteSignatureException, msg: "Authorization header must use the AWS4-HMAC-SHA256 algorithm"},
		{name: "algorithm only", after: func(r *http.Request, _ *[]byte) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256") },
			code: awsproto.IncompleteSignatureException, msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{name: "sigv4a", after: func(r *http.Request, _ *[]byte) { editAuth(r, `^AWS4-HMAC-SHA256`, "AWS4-ECDSA-P256-SHA256") },
			code: awsproto.IncompleteSignatureException, msg: "Authorization header must use the AWS4-HMAC-SHA256 algorithm"},
		{name: "unsigned", unsigned: true,
			code: awsproto.MissingAuthenticationTokenException, msg: "Request is missing Authentication Token"},
		{name: "presigned query", unsigned: true, before: func(r *http.Request, _ *signing) {
			r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"
		}, code: awsproto.IncompleteSignatureException, msg: "query-string (presigned) authentication is not supported"},
	}
	services := map[string]string{
		"codepipeline": "CodePipeline_20150709.ListPipelines",
		"codedeploy":   "CodeDeploy_20141006.ListApplications",
	}
	for service, target := range services {
		for _, tc := range cases {
			t.Run(service+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, testNow)
				body := []byte(`{"maxResults":10}`)
				r := newTestRequest(target, body)
				s := signing{id: f.id, secret: f.secret, service: service, region: "us-east-1", at: testNow}
				if tc.before != nil {
					tc.before(r, &s)
				}
				if !tc.unsigned {
					signRequest(t, r, body, s)
				}
				if tc.after != nil {
					tc.after(r, &body)
				}
				caller, err := f.v.Authenticate(r, body, service)
				if tc.code == "" {
					if err != nil {
						t.Fatalf("Authenticate: %v", err)
					}
					want := awsproto.Caller{AccessKeyID: f.id, ARN: "arn:aws:iam::123456789012:user/admin", AccountID: testAccount}
					if caller != want {
						t.Fatalf("caller = %+v, want %+v", caller, want)
					}
					return
				}
				e := awsproto.AsError(err)
				if e == nil {
					t.Fatalf("Authenticate: got %v (caller %+v), want %s", err, caller, tc.code)
				}
				if e.Code != tc.code || !strings.HasPrefix(e.Message, tc.msg) {
					t.Errorf("error = %s: %q\nwant    %s: %q...", e.Code, e.Message, tc.code, tc.msg)
				}
				if e.Status != http.StatusBadRequest {
					t.Errorf("status = %d, want 400", e.Status)
				}
				if caller != (awsproto.Caller{}) {
					t.Errorf("caller = %+v on failure, want zero", caller)
				}
				if strings.Contains(e.Message, f.secret) || strings.Contains(f.logs.String(), f.secret) {
					t.Error("secret leaked into the error or the log")
				}
			})
		}
	}
}

func TestVerifierLogsFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testNow)
	body := []byte(`{}`)
	r := newTestRequest("CodePipeline_20150709.ListPipelines", body)
	signRequest(t, r, body, signing{id: f.id, secret: f.secret, service: "codepipeline", region: "us-east-1", at: testNow})
	if _, err := f.v.Authenticate(r, body, "codepipeline"); err != nil {
		t.Fatal(err)
	}
	if logs := f.logs.String(); logs != "" {
		t.Fatalf("successful authentication logged %q", logs)
	}
	if _, err := f.v.Authenticate(r, []byte(`{"x":1}`), "codepipeline"); err == nil {
		t.Fatal("tampered body authenticated")
	}
	logs := f.logs.String()
	for _, want := range []string{"level=INFO", `msg="authentication failed"`, "access_key_id=" + f.id, "code=InvalidSignatureException"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log %q lacks %q", logs, want)
		}
	}
	sig := regexp.MustCompile(`Signature=(\w+)`).FindStringSubmatch(r.Header.Get("Authorization"))[1]
	if strings.Contains(logs, f.secret) || strings.Contains(logs, sig) {
		t.Errorf("log %q holds the secret or the signature", logs)
	}
}

func TestCanonicalEncoding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, path string }{
		{"", "/"},
		{"/", "/"},
		{"/a%20b/c%2Fd~", "/a%2520b/c%252Fd~"},
		{"/x/é", "/x/%25C3%25A9"},
	} {
		u, err := url.Parse("http://h" + tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := canonicalURI(u); got != tc.path {
			t.Errorf("canonicalURI(%q) = %q, want %q", tc.in, got, tc.path)
		}
	}
	if got, want := canonicalQuery("b=2&a=z&a=1&k=v%2Fw&e&x=a+b&&"), "a=1&a=z&b=2&e=&k=v%2Fw&x=a%20b"; got != want {
		t.Errorf("canonicalQuery = %q, want %q", got, want)
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, seed := range []string{
		"",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/codepipeline/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=host,Signature=00",
		"AWS4-HMAC-SHA256 Credential=//////, SignedHeaders=;;, Signature==",
		"AWS4-HMAC-SHA256 ,,,=,Credential=,Credential=x",
		"Bearer x",
	} {
		f.Add(seed)
	}
	fx := newFixture(f, testNow)
	f.Fuzz(func(t *testing.T, header string) {
		a, err := parseAuthorization(header)
		if err != nil {
			if e := awsproto.AsError(err); e == nil || e.Code != awsproto.IncompleteSignatureException {
				t.Fatalf("parse error %v is not an IncompleteSignatureException", err)
			}
		} else if a.keyID == "" || a.service == "" || a.signature == "" || len(a.signedHeaders) == 0 {
			t.Fatalf("accepted %q with empty parts: %+v", header, a)
		}
		r := newTestRequest("CodePipeline_20150709.ListPipelines", nil)
		r.Header.Set("Authorization", header)
		r.Header.Set("X-Amz-Date", "20261122T120000Z")
		if _, err := fx.v.Authenticate(r, nil, "codepipeline"); err == nil {
			t.Fatalf("header %q authenticated", header)
		}
	})
}
