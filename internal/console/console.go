package console

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/store"
)

// Paths and names of the console.
const (
	// Prefix is where the console is mounted.
	Prefix = "/console/"
	// CookieName is the session cookie.
	CookieName = "slipway_session"
	// CSRFHeader carries the session's CSRF token on every request to the
	// data API and on sign-out.
	CSRFHeader = "X-Slipway-Csrf"
	// DefaultSessionTTL is how long a session lasts unless Config says.
	DefaultSessionTTL = 12 * time.Hour
	// DefaultPollInterval is how often the event stream reads the event
	// log for new events.
	DefaultPollInterval = 250 * time.Millisecond
)

//go:embed static
var staticFS embed.FS

// Keys looks up access keys (auth.Keys): the secret a sign-in must
// present and the identity the key stands for. An unknown key's error
// wraps store.ErrNotFound.
type Keys interface {
	Lookup(ctx context.Context, id string) (secret []byte, caller awsproto.Caller, err error)
}

// EventLog reads the event log (store.Store).
type EventLog interface {
	LastEventID(ctx context.Context) (int64, error)
	ListEvents(ctx context.Context, after int64, pipeline string, limit int) ([]*store.Event, error)
}

// AgentSeen tells when an instance's host agent last polled (store.Store);
// the error wraps store.ErrNotFound when it never did.
type AgentSeen interface {
	AgentSeen(ctx context.Context, instance string) (time.Time, error)
}

// Config is what a Console needs.
type Config struct {
	// API is the server's AWS JSON dispatcher; the console's data API
	// serves the same services with session authentication.
	API    *awsproto.Server
	Keys   Keys
	Sealer Sealer
	Events EventLog
	// Agents, when set, gives the instances page each agent's last poll.
	Agents AgentSeen
	// SessionTTL is how long a session lasts; 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// PollInterval is how often an event stream reads the event log; 0
	// means DefaultPollInterval.
	PollInterval time.Duration
	Logger       *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Console serves the web console. Its Handler expects requests for paths
// under Prefix.
type Console struct {
	cfg      Config
	api      *awsproto.Server
	assets   fs.FS
	mux      *http.ServeMux
	done     chan struct{} // closed by Shutdown
	shutdown sync.Once
}

// New returns a Console for cfg.
func New(cfg Config) (*Console, error) {
	if cfg.API == nil || cfg.Keys == nil || cfg.Sealer == nil || cfg.Events == nil {
		return nil, errors.New("console: API, Keys, Sealer and Events are required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	assets, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("console: assets: %w", err)
	}
	c := &Console{cfg: cfg, assets: assets, done: make(chan struct{})}
	c.api = cfg.API.WithAuth(sessionAuth{c})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console/login", c.loginPage)
	mux.HandleFunc("POST /console/login", c.login)
	mux.HandleFunc("POST /console/logout", c.logout)
	mux.HandleFunc("GET /console/session", c.sessionInfo)
	mux.Handle("POST /console/api", c.api)
	mux.HandleFunc("GET /console/events", c.events)
	mux.HandleFunc("GET /console/agents", c.agents)
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /console/{path...}", c.page)
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed on "+r.URL.Path)
	})
	c.mux = mux
	return c, nil
}

// Handler returns the console's HTTP handler.
func (c *Console) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		c.mux.ServeHTTP(w, r)
	})
}

// Shutdown ends the open event streams (browsers reconnect to another
// server, or to this one when it is back), so that a graceful shutdown
// need not wait for them. Register it with http.Server.RegisterOnShutdown.
func (c *Console) Shutdown() {
	c.shutdown.Do(func() { close(c.done) })
}

// writeError answers with the AWS JSON error envelope.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// sessionFrom returns the request's valid session.
func (c *Console) sessionFrom(r *http.Request) (session, error) {
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return session{}, fmt.Errorf("%w: no session cookie", errSession)
	}
	return decodeSession(c.cfg.Sealer, ck.Value, c.cfg.Now())
}

// sameOrigin reports whether a browser request comes from the console's
// own origin: its Origin header, when present, names this host, and its
// Sec-Fetch-Site, when present, is same-origin.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: value, Path: "/console", MaxAge: maxAge,
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
}

// loginRequest is the body of POST /console/login.
type loginRequest struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// sessionResponse describes the signed-in session to the page.
type sessionResponse struct {
	AccessKeyID string `json:"accessKeyId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	CSRF        string `json:"csrf"`
	Expires     int64  `json:"expires"`
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeError(w, http.StatusForbidden, awsproto.AccessDeniedException, "sign-in must come from the console's own page")
		return
	}
	var in loginRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<10))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, awsproto.RequestEntityTooLargeException, "sign-in body exceeds 8 KiB")
		return
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, awsproto.SerializationException, `sign-in body must be JSON: {"accessKeyId": "...", "secretAccessKey": "..."}`)
		return
	}
	in.AccessKeyID = strings.TrimSpace(in.AccessKeyID)
	if in.AccessKeyID == "" || in.SecretAccessKey == "" {
		writeError(w, http.StatusBadRequest, awsproto.ValidationException, "enter an access key ID and its secret access key")
		return
	}
	secret, caller, err := c.cfg.Keys.Lookup(r.Context(), in.AccessKeyID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.cfg.Logger.ErrorContext(r.Context(), "console sign-in", "err", err)
		writeError(w, http.StatusInternalServerError, awsproto.InternalFailure, "the server could not check the access key")
		return
	}
	if err != nil || subtle.ConstantTimeCompare(secret, []byte(in.SecretAccessKey)) != 1 {
		c.cfg.Logger.InfoContext(r.Context(), "console sign-in refused", "access_key_id", in.AccessKeyID)
		writeError(w, http.StatusUnauthorized, awsproto.UnrecognizedClientException,
			"the access key ID or secret access key is wrong; use a key of this server (e.g. from <data-dir>/credentials)")
		return
	}
	s, err := newSession(in.AccessKeyID, c.cfg.Now(), c.cfg.SessionTTL)
	if err == nil {
		var value string
		if value, err = encodeSession(c.cfg.Sealer, s); err == nil {
			c.setCookie(w, r, value, int(c.cfg.SessionTTL/time.Second))
		}
	}
	if err != nil {
		c.cfg.Logger.ErrorContext(r.Context(), "console sign-in", "err", err)
		writeError(w, http.StatusInternalServerError, awsproto.InternalFailure, "the server could not start a session")
		return
	}
	c.cfg.Logger.InfoContext(r.Context(), "console sign-in", "access_key_id", in.AccessKeyID)
	writeJSON(w, sessionResponse{AccessKeyID: s.AccessKeyID, ARN: caller.ARN, AccountID: caller.AccountID, CSRF: s.CSRF, Expires: s.Expires})
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	s, err := c.sessionFrom(r)
	if err == nil && (!sameOrigin(r) || !s.csrfMatches(r.Header.Get(CSRFHeader))) {
		writeError(w, http.StatusForbidden, awsproto.AccessDeniedException, "sign-out needs the session's "+CSRFHeader+" header from the console's own page")
		return
	}
	c.setCookie(w, r, "", -1)
	w.WriteHeader(http.StatusNoContent)
}

func (c *Console) sessionInfo(w http.ResponseWriter, r *http.Request) {
	s, err := c.sessionFrom(r)
	if err != nil {
		writeError(w, http.StatusUnauthorized, awsproto.MissingAuthenticationTokenException, "not signed in: sign in at /console/login")
		return
	}
	_, caller, err := c.cfg.Keys.Lookup(r.Context(), s.AccessKeyID)
	if err != nil {
		c.setCookie(w, r, "", -1)
		writeError(w, http.StatusUnauthorized, awsproto.UnrecognizedClientException, "the access key of this session no longer exists: sign in again")
		return
	}
	writeJSON(w, sessionResponse{AccessKeyID: s.AccessKeyID, ARN: caller.ARN, AccountID: caller.AccountID, CSRF: s.CSRF, Expires: s.Expires})
}

// sessionAuth authenticates data API requests by session cookie, CSRF
// header and origin.
type sessionAuth struct{ c *Console }

// Authenticate implements awsproto.Authenticator.
func (a sessionAuth) Authenticate(r *http.Request, _ []byte, _ string) (awsproto.Caller, error) {
	s, err := a.c.sessionFrom(r)
	if err != nil {
		return awsproto.Caller{}, &awsproto.Error{Code: awsproto.MissingAuthenticationTokenException,
			Message: "not signed in or the session has expired: sign in at /console/login", Status: http.StatusUnauthorized}
	}
	if !sameOrigin(r) {
		return awsproto.Caller{}, &awsproto.Error{Code: awsproto.AccessDeniedException,
			Message: "console API requests must come from the console's own origin", Status: http.StatusForbidden}
	}
	if !s.csrfMatches(r.Header.Get(CSRFHeader)) {
		return awsproto.Caller{}, &awsproto.Error{Code: awsproto.AccessDeniedException,
			Message: "missing or wrong " + CSRFHeader + " header: send the csrf value of GET /console/session", Status: http.StatusForbidden}
	}
	_, caller, err := a.c.cfg.Keys.Lookup(r.Context(), s.AccessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return awsproto.Caller{}, &awsproto.Error{Code: awsproto.UnrecognizedClientException,
			Message: "the access key of this session no longer exists: sign in again", Status: http.StatusUnauthorized}
	}
	if err != nil {
		return awsproto.Caller{}, fmt.Errorf("console: look up session key: %w", err)
	}
	return caller, nil
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.serveAsset(w, r, "login.html")
}

// page serves the single-page application for every other path, or sends
// the browser to sign in.
func (c *Console) page(w http.ResponseWriter, r *http.Request) {
	if _, err := c.sessionFrom(r); err != nil {
		next := r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			next += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, "/console/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	c.serveAsset(w, r, "index.html")
}

func (c *Console) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	data, err := fs.ReadFile(c.assets, name)
	if err != nil {
		c.cfg.Logger.ErrorContext(r.Context(), "console asset", "name", name, "err", err)
		http.Error(w, "console asset missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(data)
}
