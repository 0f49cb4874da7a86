package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/slipway-cd/slipway/internal/cdcmdapi"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// SigningName is the SigV4 signing name of the command service
// (endpointPrefix codedeploy-commands; api.md §6.1).
const SigningName = "codedeploy-commands"

// AgentVersionHeader carries the agent's version on every request
// (deploy_agent_version.rb; api.md §6.2).
const AgentVersionHeader = "x-amz-codedeploy-agent-version"

// Version is the agent's version, set by the build.
var Version = "slipway-agent-dev"

const maxResponseBytes = 16 << 20

// ServiceError is an error response of the command service.
type ServiceError struct {
	Code       string
	Message    string
	StatusCode int
}

// Error returns "<code>: <message>".
func (e *ServiceError) Error() string { return e.Code + ": " + e.Message }

// Client calls the CodeDeploy command service of a Slipway server and
// downloads bundles from it. It is safe for concurrent use.
type Client struct {
	// Endpoint is the server's base URL.
	Endpoint string
	// Region is the signing region.
	Region string
	// Credentials sign every request.
	Credentials aws.CredentialsProvider
	// HTTP sends the command-service calls; its Timeout should exceed the
	// server's long poll.
	HTTP *http.Client
	// Download sends bundle downloads (no overall timeout); nil uses HTTP
	// without its Timeout.
	Download *http.Client
	// BasicAuth makes bundle downloads use HTTP basic authentication with
	// the access key ID and secret instead of SigV4.
	BasicAuth bool

	signerOnce sync.Once
	signer     *v4.Signer
}

// NewClient builds a Client from a configuration.
func NewClient(c *Config) (*Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = c.HTTPReadTimeout.D()
	if c.ProxyURI != "" {
		u, err := url.Parse(c.ProxyURI)
		if err != nil {
			return nil, err
		}
		tr.Proxy = http.ProxyURL(u)
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", c.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	var creds aws.CredentialsProvider
	if c.CredentialsFile != "" {
		creds = &fileCredentials{path: c.CredentialsFile, profile: c.Profile}
	} else {
		creds = staticCredentials{aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Source: "slipway-agent config"}}
	}
	return &Client{
		Endpoint:    strings.TrimRight(c.Endpoint, "/"),
		Region:      c.Region,
		Credentials: creds,
		HTTP:        &http.Client{Transport: tr, Timeout: c.HTTPReadTimeout.D() + 10*time.Second},
		Download:    &http.Client{Transport: tr},
		BasicAuth:   c.BundleAuth == "basic",
	}, nil
}

type staticCredentials struct{ v aws.Credentials }

func (s staticCredentials) Retrieve(context.Context) (aws.Credentials, error) { return s.v, nil }

// fileCredentials reads a shared-credentials file, again whenever it
// changes (file_credentials.rb refreshes every 30 minutes; re-reading on
// change picks up rotated session credentials sooner).
type fileCredentials struct {
	path, profile string
	mu            sync.Mutex
	mod           time.Time
	cur           aws.Credentials
}

func (f *fileCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := os.Stat(f.path)
	if err != nil {
		return aws.Credentials{}, err
	}
	if !fi.ModTime().Equal(f.mod) || f.cur.AccessKeyID == "" {
		id, secret, token, err := readCredentialsFile(f.path, f.profile)
		if err != nil {
			return aws.Credentials{}, err
		}
		f.cur = aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: token, Source: f.path}
		f.mod = fi.ModTime()
	}
	return f.cur, nil
}

// PollHostCommand calls PollHostCommand.
func (c *Client) PollHostCommand(ctx context.Context, in *cdcmdapi.PollHostCommandInput) (*cdcmdapi.PollHostCommandOutput, error) {
	out := &cdcmdapi.PollHostCommandOutput{}
	return out, c.call(ctx, "PollHostCommand", in, out)
}

// GetDeploymentSpecification calls GetDeploymentSpecification.
func (c *Client) GetDeploymentSpecification(ctx context.Context, in *cdcmdapi.GetDeploymentSpecificationInput) (*cdcmdapi.GetDeploymentSpecificationOutput, error) {
	out := &cdcmdapi.GetDeploymentSpecificationOutput{}
	return out, c.call(ctx, "GetDeploymentSpecification", in, out)
}

// PutHostCommandAcknowledgement calls PutHostCommandAcknowledgement.
func (c *Client) PutHostCommandAcknowledgement(ctx context.Context, in *cdcmdapi.PutHostCommandAcknowledgementInput) (*cdcmdapi.PutHostCommandAcknowledgementOutput, error) {
	out := &cdcmdapi.PutHostCommandAcknowledgementOutput{}
	return out, c.call(ctx, "PutHostCommandAcknowledgement", in, out)
}

// PutHostCommandComplete calls PutHostCommandComplete.
func (c *Client) PutHostCommandComplete(ctx context.Context, in *cdcmdapi.PutHostCommandCompleteInput) error {
	return c.call(ctx, "PutHostCommandComplete", in, nil)
}

// PostHostCommandUpdate calls PostHostCommandUpdate.
func (c *Client) PostHostCommandUpdate(ctx context.Context, in *cdcmdapi.PostHostCommandUpdateInput) (*cdcmdapi.PostHostCommandUpdateOutput, error) {
	out := &cdcmdapi.PostHostCommandUpdateOutput{}
	return out, c.call(ctx, "PostHostCommandUpdate", in, out)
}

// call sends one AWS JSON 1.1 request.
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", cdcmdapi.TargetPrefix+"."+op)
	req.Header.Set(AgentVersionHeader, Version)
	if err := c.sign(ctx, req, body); err != nil {
		return fmt.Errorf("%s: sign: %w", op, err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("%s: read response: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %w", op, decodeError(resp, data))
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decode response: %w", op, err)
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
		region = DefaultRegion
	}
	c.signerOnce.Do(func() { c.signer = v4.NewSigner() })
	sum := sha256.Sum256(body)
	return c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), SigningName, region, time.Now().UTC())
}

// decodeError reads an AWS JSON error response as a ServiceError.
func decodeError(resp *http.Response, data []byte) error {
	e := slipwayapi.DecodeError(resp, data)
	return &ServiceError{Code: e.Code, Message: e.Message, StatusCode: e.StatusCode}
}

// BundleURL returns where the bundle of spec is downloaded from: the
// specification's SlipwayBundleUrl (resolved against the endpoint), else
// <endpoint>/deploy/bundles/<deployment id>.
func (c *Client) BundleURL(spec *DeploymentSpec) (string, error) {
	base, err := url.Parse(c.Endpoint + "/")
	if err != nil {
		return "", err
	}
	if spec.SlipwayBundleURL == "" {
		return base.JoinPath("deploy", "bundles", spec.DeploymentID).String(), nil
	}
	u, err := base.Parse(spec.SlipwayBundleURL)
	if err != nil {
		return "", fmt.Errorf("SlipwayBundleUrl %q: %w", spec.SlipwayBundleURL, err)
	}
	return u.String(), nil
}

// FetchBundle downloads the bundle of spec from the server, authenticated
// with the instance's credentials, into w.
func (c *Client) FetchBundle(ctx context.Context, spec *DeploymentSpec, w io.Writer) (string, error) {
	u, err := c.BundleURL(spec)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set(AgentVersionHeader, Version)
	if c.BasicAuth {
		creds, err := c.Credentials.Retrieve(ctx)
		if err != nil {
			return "", err
		}
		req.SetBasicAuth(creds.AccessKeyID, creds.SecretAccessKey)
	} else {
		const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		if err := c.sign(ctx, req, nil); err != nil {
			return "", err
		}
	}
	hc := c.Download
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return "", fmt.Errorf("GET %s: %w", u, decodeError(resp, data))
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return "", err
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return "", fmt.Errorf("GET %s: got %d of %d bytes", u, n, resp.ContentLength)
	}
	return resp.Header.Get("ETag"), nil
}

// IsClientError reports whether err is the service refusing a request
// (a 4xx or ClientException) rather than a transport or server failure.
func IsClientError(err error) bool {
	var se *ServiceError
	return errors.As(err, &se) && se.StatusCode >= 400 && se.StatusCode < 500
}
