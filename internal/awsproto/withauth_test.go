package awsproto_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

// headerAuth accepts requests whose X-Test-User header is set.
type headerAuth struct{}

func (headerAuth) Authenticate(r *http.Request, body []byte, signingName string) (awsproto.Caller, error) {
	u := r.Header.Get("X-Test-User")
	if u == "" {
		return awsproto.Caller{}, &awsproto.Error{Code: awsproto.MissingAuthenticationTokenException, Message: "no user", Status: http.StatusUnauthorized}
	}
	return awsproto.Caller{AccessKeyID: u}, nil
}

func TestWithAuthSharesServices(t *testing.T) {
	base := &awsproto.Server{}
	other := base.WithAuth(headerAuth{})
	// Registered after WithAuth: both servers see it.
	svc := awsproto.NewService("Who_20200101", "who", []string{"WhoAmI"})
	awsproto.Handle(svc, "WhoAmI", func(ctx context.Context, in *struct{}) (*echoOut, error) {
		return &echoOut{Name: awsproto.CallerFrom(ctx).AccessKeyID}, nil
	})
	base.Register(svc)

	for _, tc := range []struct {
		name   string
		srv    http.Handler
		user   string
		status int
		body   string
	}{
		{"base server, no authenticator", base, "", 200, `{"name":""}`},
		{"other server, authenticated", other, "alice", 200, `{"name":"alice"}`},
		{"other server, unauthenticated", other, "", 401, `"__type":"MissingAuthenticationTokenException"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
			req.Header.Set("X-Amz-Target", "Who_20200101.WhoAmI")
			if tc.user != "" {
				req.Header.Set("X-Test-User", tc.user)
			}
			rec := httptest.NewRecorder()
			tc.srv.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("got %d %s, want %d with %s", rec.Code, rec.Body.String(), tc.status, tc.body)
			}
		})
	}
}
