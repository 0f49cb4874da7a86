package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ContentType is the media type of AWS JSON 1.1 requests and responses.
const ContentType = "application/x-amz-json-1.1"

// DefaultMaxBodyBytes bounds a request body unless Server.MaxBodyBytes is set.
const DefaultMaxBodyBytes = 4 << 20

// Caller is the authenticated identity behind a request.
type Caller struct {
	AccessKeyID string
	ARN         string // e.g. arn:aws:iam::123456789012:user/admin
	AccountID   string
}

// Authenticator checks a request's signature. signingName is the SigV4
// service name of the target service. On failure it returns an *Error
// (UnrecognizedClientException, InvalidSignatureException, ...).
type Authenticator interface {
	Authenticate(r *http.Request, body []byte, signingName string) (Caller, error)
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller stored in ctx (zero if none).
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

type handlerFunc func(ctx context.Context, body []byte) (any, error)

// Service is one AWS JSON service: a target prefix, a SigV4 signing name and
// the handlers of its operations.
type Service struct {
	TargetPrefix string
	SigningName  string
	modeled      map[string]bool
	handlers     map[string]handlerFunc
}

// NewService returns a Service for the given target prefix and signing name.
// operations are the model's operation names: targets outside this list are
// unknown, targets in it without a handler are reported as not implemented.
func NewService(targetPrefix, signingName string, operations []string) *Service {
	s := &Service{TargetPrefix: targetPrefix, SigningName: signingName,
		modeled: map[string]bool{}, handlers: map[string]handlerFunc{}}
	for _, op := range operations {
		s.modeled[op] = true
	}
	return s
}

type validator interface{ Validate() error }

// Handle registers fn as the handler of operation op. The request body is
// decoded into a new In; if *In has a Validate method it runs first. A nil
// *Out is sent as {}.
func Handle[In, Out any](s *Service, op string, fn func(ctx context.Context, in *In) (*Out, error)) {
	s.handlers[op] = func(ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if err := Decode(body, in); err != nil {
			return nil, err
		}
		if v, ok := any(in).(validator); ok {
			if err := v.Validate(); err != nil {
				return nil, err
			}
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			return struct{}{}, nil
		}
		return out, nil
	}
}

// Decode parses an AWS JSON request body into v, turning every problem into
// a SerializationException that says what is wrong and where.
func Decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !utf8.Valid(body) {
		return Errorf(SerializationException, "request body is not valid UTF-8")
	}
	if body[0] != '{' {
		return Errorf(SerializationException, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(SerializationException, "request body has data after the JSON object")
	}
	if name, ok := duplicateMember(body); ok {
		return Errorf(SerializationException, "request body has member %q twice in one object; send each member once", name)
	}
	return nil
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return Errorf(SerializationException, "request body is not valid JSON at offset %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		where := typ.Field
		if where == "" {
			where = "the request"
		}
		return Errorf(SerializationException, "value at '%s' must be %s, not a JSON %s", where, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(SerializationException, "request body ends in the middle of a JSON value")
	}
	return Errorf(SerializationException, "cannot read request body: %s", err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int32", "int64", "int":
		return "an integer"
	case "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "slice":
		return "a list"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "of another type"
}

// Server dispatches AWS JSON 1.1 requests to registered services.
type Server struct {
	Logger       *slog.Logger
	Auth         Authenticator // nil accepts unsigned requests (tests only)
	MaxBodyBytes int64
	// TargetMaxBodyBytes raises (or lowers) the body limit of single
	// operations, by X-Amz-Target (e.g. an upload operation).
	TargetMaxBodyBytes map[string]int64

	services map[string]*Service
}

// Register adds a service.
func (s *Server) Register(svc *Service) {
	if s.services == nil {
		s.services = map[string]*Service{}
	}
	s.services[svc.TargetPrefix] = svc
}

// WithAuth returns a Server that dispatches to the same services as s
// (including services registered on s later) with the same limits and
// logger, but authenticates requests with a instead.
func (s *Server) WithAuth(a Authenticator) *Server {
	if s.services == nil {
		s.services = map[string]*Service{}
	}
	c := *s
	c.Auth = a
	return &c
}

// serviceUnavailable is an error of a dependency (the database refusing
// writes) that the client cannot fix and may retry: it is answered as
// ServiceUnavailableException (HTTP 503) with the error's own message.
type serviceUnavailable interface {
	error
	ServiceUnavailable() string
}

// ServeHTTP handles POST / requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := uuid.NewString()
	w.Header().Set("x-amzn-RequestId", reqID)
	target := r.Header.Get("X-Amz-Target")
	log := s.logger().With("request_id", reqID, "target", target)

	out, err := s.serve(r, target, log)
	status := http.StatusOK
	if err != nil {
		apiErr := AsError(err)
		var unavailable serviceUnavailable
		if apiErr == nil && errors.As(err, &unavailable) {
			log.Warn("request refused: a dependency is unavailable", "err", err)
			apiErr = &Error{Code: ServiceUnavailableException, Message: unavailable.ServiceUnavailable(), Status: http.StatusServiceUnavailable}
		}
		if apiErr == nil {
			log.Error("request failed", "err", err)
			apiErr = &Error{Code: InternalFailure, Message: "the server could not complete the request (request id " + reqID + ")", Status: http.StatusInternalServerError}
		}
		status = apiErr.status()
		w.Header().Set("X-Amzn-ErrorType", apiErr.Code)
		out = map[string]string{"__type": apiErr.Code, "message": apiErr.Message}
	}
	buf, merr := json.Marshal(out)
	if merr != nil {
		log.Error("encode response", "err", merr)
		status = http.StatusInternalServerError
		buf = []byte(`{"__type":"InternalFailure","message":"the server could not encode its response"}`)
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(buf)
	log.Debug("request", "status", status, "duration", time.Since(start))
}

func (s *Server) serve(r *http.Request, target string, log *slog.Logger) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("handler panic", "panic", p, "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	if r.Method != http.MethodPost {
		return nil, &Error{Code: UnknownOperationException, Message: "AWS JSON requests must use POST", Status: http.StatusMethodNotAllowed}
	}
	prefix, op, ok := strings.Cut(target, ".")
	svc := s.services[prefix]
	if !ok || svc == nil {
		return nil, Errorf(UnknownOperationException, "unknown X-Amz-Target %q: expected <service prefix>.<operation>", target)
	}
	limit := s.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if n, ok := s.TargetMaxBodyBytes[target]; ok && n > 0 {
		limit = n
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Error{Code: RequestEntityTooLargeException, Message: fmt.Sprintf("request body exceeds %d bytes", limit), Status: http.StatusRequestEntityTooLarge}
		}
		return nil, Errorf(SerializationException, "cannot read request body: %v", err)
	}
	ctx := r.Context()
	if s.Auth != nil {
		caller, err := s.Auth.Authenticate(r, body, svc.SigningName)
		if err != nil {
			return nil, err
		}
		ctx = WithCaller(ctx, caller)
	}
	h := svc.handlers[op]
	if h == nil {
		if svc.modeled[op] {
			return nil, Errorf(UnknownOperationException, "operation %s is not supported by this server", op)
		}
		return nil, Errorf(UnknownOperationException, "unknown operation %s for %s", op, prefix)
	}
	return h(ctx, body)
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
