package slipwayapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// The client signs for "slipway", targets Slipway_20261122 and decodes
// error envelopes the way the AWS SDKs do.
func TestClientRequestsAndErrors(t *testing.T) {
	t.Parallel()
	var last *http.Request
	var lastBody string
	reply := func(w http.ResponseWriter) {}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		last, lastBody = r, string(b)
		reply(w)
	}))
	defer ts.Close()
	c := slipwayapi.New(ts.URL+"/", "eu-west-1", credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""))
	ctx := context.Background()

	reply = func(w http.ResponseWriter) {
		_, _ = io.WriteString(w, `{"events":[{"id":7,"detailType":"t","pipelineName":"p","detail":{"a":1}}],"nextAfterId":7}`)
	}
	out, err := c.ListEvents(ctx, &slipwayapi.ListEventsInput{AfterID: 3, MaxResults: 2})
	if err != nil || len(out.Events) != 1 || out.NextAfterID != 7 || string(out.Events[0].Detail) != `{"a":1}` {
		t.Fatalf("ListEvents = %+v, %v", out, err)
	}
	if last.Method != http.MethodPost || last.URL.Path != "/" || last.Header.Get("X-Amz-Target") != "Slipway_20261122.ListEvents" ||
		last.Header.Get("Content-Type") != "application/x-amz-json-1.1" ||
		!strings.Contains(last.Header.Get("Authorization"), "/eu-west-1/slipway/aws4_request") {
		t.Errorf("request: %s %s %v", last.Method, last.URL, last.Header)
	}
	if lastBody != `{"afterId":3,"maxResults":2}` {
		t.Errorf("body = %s", lastBody)
	}

	for _, tc := range []struct {
		header, body, code, msg string
	}{
		{"", `{"__type":"ResourceNotFoundException","message":"gone"}`, "ResourceNotFoundException", "gone"},
		{"", `{"__type":"com.amazonaws.slipway#ValidationException:http://x","Message":"bad"}`, "ValidationException", "bad"},
		{"ThrottlingException", `not json`, "ThrottlingException", ""},
		{"", `<html>oops</html>`, "UnknownError", "HTTP 400 Bad Request: <html>oops</html>"},
	} {
		reply = func(w http.ResponseWriter) {
			w.Header().Set("x-amzn-RequestId", "req-1")
			if tc.header != "" {
				w.Header().Set("X-Amzn-ErrorType", tc.header)
			}
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, tc.body)
		}
		_, err := c.DeleteNotificationTarget(ctx, &slipwayapi.DeleteNotificationTargetInput{Name: "x"})
		var e *slipwayapi.Error
		if !errors.As(err, &e) || e.Code != tc.code || e.Message != tc.msg || e.StatusCode != 400 || e.RequestID != "req-1" {
			t.Errorf("error for %s = %#v, want code %s, message %q", tc.body, err, tc.code, tc.msg)
		}
		if slipwayapi.ErrorCode(err) != tc.code {
			t.Errorf("ErrorCode = %q, want %q", slipwayapi.ErrorCode(err), tc.code)
		}
	}

	// Unsigned when there are no credentials.
	reply = func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"targets":[]}`) }
	if _, err := slipwayapi.New(ts.URL, "", nil).ListNotificationTargets(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if last.Header.Get("Authorization") != "" || lastBody != `{}` {
		t.Errorf("unsigned request has Authorization %q, body %s", last.Header.Get("Authorization"), lastBody)
	}
}
