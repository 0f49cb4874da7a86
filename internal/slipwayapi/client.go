package slipwayapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// contentType is the media type of AWS JSON 1.1 requests.
const contentType = "application/x-amz-json-1.1"

// maxResponseBytes bounds a response body the client reads.
const maxResponseBytes = 64 << 20

// HTTPClient sends requests; *http.Client and aws.Config's HTTPClient are
// ones.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Client calls the Slipway extension API. Its zero value is not usable:
// set at least Endpoint and Credentials (or use New or NewFromConfig). It
// is safe for concurrent use. Requests are sent once, never retried.
type Client struct {
	// Endpoint is the server's base URL, e.g. http://127.0.0.1:7700.
	Endpoint string
	// Region is the SigV4 signing region; "" means us-east-1.
	Region string
	// Credentials sign every request (SigV4, service "slipway"). nil sends
	// requests unsigned, which a server refuses with
	// MissingAuthenticationTokenException.
	Credentials aws.CredentialsProvider
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient HTTPClient
	// Now is the signing clock; nil means time.Now.
	Now func() time.Time

	// signer is the client's own: it caches signing keys by access key
	// ID and day, so clients with other credentials must not share it.
	signerOnce sync.Once
	signer     *v4.Signer
}

// New returns a client for the server at endpoint that signs with creds
// for region.
func New(endpoint, region string, creds aws.CredentialsProvider) *Client {
	return &Client{Endpoint: endpoint, Region: region, Credentials: creds}
}

// NewFromConfig returns a client for the server at endpoint with the
// region, credentials and HTTP client of an AWS SDK configuration (from
// config.LoadDefaultConfig, say, which reads the credentials file the
// server wrote).
func NewFromConfig(cfg aws.Config, endpoint string) *Client {
	return &Client{Endpoint: endpoint, Region: cfg.Region, Credentials: cfg.Credentials, HTTPClient: cfg.HTTPClient}
}

// Error is an error response of the API.
type Error struct {
	// Code is the error's __type, e.g. ResourceNotFoundException.
	Code string
	// Message is the server's explanation.
	Message string
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// RequestID is the x-amzn-RequestId of the response.
	RequestID string
}

// Error returns "slipway: <code>: <message>".
func (e *Error) Error() string {
	return "slipway: " + e.Code + ": " + e.Message
}

// ErrorCode returns the Code of err when it is or wraps an *Error, and ""
// otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ListEvents calls ListEvents.
func (c *Client) ListEvents(ctx context.Context, in *ListEventsInput) (*ListEventsOutput, error) {
	return call[ListEventsOutput](ctx, c, "ListEvents", in)
}

// PutNotificationTarget calls PutNotificationTarget.
func (c *Client) PutNotificationTarget(ctx context.Context, in *PutNotificationTargetInput) (*PutNotificationTargetOutput, error) {
	return call[PutNotificationTargetOutput](ctx, c, "PutNotificationTarget", in)
}

// GetNotificationTarget calls GetNotificationTarget.
func (c *Client) GetNotificationTarget(ctx context.Context, in *GetNotificationTargetInput) (*GetNotificationTargetOutput, error) {
	return call[GetNotificationTargetOutput](ctx, c, "GetNotificationTarget", in)
}

// ListNotificationTargets calls ListNotificationTargets.
func (c *Client) ListNotificationTargets(ctx context.Context, in *ListNotificationTargetsInput) (*ListNotificationTargetsOutput, error) {
	if in == nil {
		in = &ListNotificationTargetsInput{}
	}
	return call[ListNotificationTargetsOutput](ctx, c, "ListNotificationTargets", in)
}

// DeleteNotificationTarget calls DeleteNotificationTarget.
func (c *Client) DeleteNotificationTarget(ctx context.Context, in *DeleteNotificationTargetInput) (*DeleteNotificationTargetOutput, error) {
	return call[DeleteNotificationTargetOutput](ctx, c, "DeleteNotificationTarget", in)
}

func call[Out any](ctx context.Context, c *Client, op string, in any) (*Out, error) {
	out := new(Out)
	if err := c.Call(ctx, op, in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Call sends operation op of the service with input in (marshalled to
// JSON; nil sends {}) and decodes the response into out (nil discards it).
// An error response is returned as an *Error; transport failures as they
// come.
func (c *Client) Call(ctx context.Context, op string, in, out any) error {
	body := []byte("{}")
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("slipway %s: encode input: %w", op, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.Endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("slipway %s: %w", op, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", TargetPrefix+"."+op)
	if err := c.sign(ctx, req, body); err != nil {
		return fmt.Errorf("slipway %s: sign request: %w", op, err)
	}

	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("slipway %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("slipway %s: read response: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return DecodeError(resp, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("slipway %s: decode response: %w", op, err)
	}
	return nil
}

func (c *Client) sign(ctx context.Context, req *http.Request, body []byte) error {
	if c.Credentials == nil {
		return nil
	}
	creds, err := c.Credentials.Retrieve(ctx)
	if err != nil {
		return err
	}
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	c.signerOnce.Do(func() { c.signer = v4.NewSigner() })
	sum := sha256.Sum256(body)
	return c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), SigningName, region, now().UTC())
}

// DecodeError reads an AWS JSON error response: {"__type", "message"},
// with the code also in X-Amzn-ErrorType. Codes are trimmed as the AWS
// SDKs trim them ("ns#Code:extra" is Code).
func DecodeError(resp *http.Response, data []byte) *Error {
	var env struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(data, &env)
	code := env.Type
	if code == "" {
		code = resp.Header.Get("X-Amzn-ErrorType")
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	msg := env.Message
	if msg == "" {
		msg = env.MessageU
	}
	if code == "" {
		code = "UnknownError"
		if msg == "" {
			msg = fmt.Sprintf("HTTP %s: %.200s", resp.Status, bytes.TrimSpace(data))
		}
	}
	return &Error{Code: code, Message: msg, StatusCode: resp.StatusCode, RequestID: resp.Header.Get("x-amzn-RequestId")}
}
