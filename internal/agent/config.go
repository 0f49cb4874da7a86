package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults of the configuration file (docs/agent.md). They mirror the
// stock agent's shipped codedeployagent.yml and its code defaults
// (reference/api.md §6.12).
const (
	DefaultRootDir           = "/opt/slipway-agent/deployment-root"
	DefaultLogDir            = "/var/log/slipway-agent"
	DefaultProgramName       = "slipway-agent"
	DefaultMaxRevisions      = 5
	DefaultWaitBetweenRuns   = 1 * time.Second
	DefaultHTTPReadTimeout   = 80 * time.Second
	DefaultMaxBackoff        = 90 * time.Second
	DefaultKeepalive         = 10 * time.Second
	DefaultKillAgentMaxWait  = 7200 * time.Second
	DefaultRegion            = "us-east-1"
	DefaultOngoingDeployment = "ongoing-deployment"
)

// Config is the agent's configuration file, one YAML document that merges
// the stock agent's codedeployagent.yml and codedeploy.onpremises.yml.
// Keys may be written bare (root_dir) or in the stock agent's Ruby-symbol
// form (:root_dir:), so an existing codedeployagent.yml is a starting point.
type Config struct {
	// Endpoint is the Slipway server's base URL (stock:
	// :deploy_control_endpoint:). Required.
	Endpoint string `yaml:"endpoint"`
	// Region is the SigV4 signing region (stock: region in
	// codedeploy.onpremises.yml). Default us-east-1.
	Region string `yaml:"region"`
	// AccessKeyID and SecretAccessKey are the instance's own credentials
	// (stock: aws_access_key_id / aws_secret_access_key).
	AccessKeyID     string `yaml:"aws_access_key_id"`
	SecretAccessKey string `yaml:"aws_secret_access_key"`
	// SessionToken goes with temporary credentials.
	SessionToken string `yaml:"aws_session_token"`
	// CredentialsFile is a shared-credentials file read (and re-read when it
	// changes) instead of the keys above (stock: aws_credentials_file).
	CredentialsFile string `yaml:"aws_credentials_file"`
	// Profile is the profile of CredentialsFile; default "default".
	Profile string `yaml:"aws_profile"`
	// IAMUserARN / IAMSessionARN are the ARN the instance was registered
	// with; either is the host identifier (stock: iam_user_arn /
	// iam_session_arn). At most one may be set.
	IAMUserARN    string `yaml:"iam_user_arn"`
	IAMSessionARN string `yaml:"iam_session_arn"`
	// HostIdentifier overrides both ARNs (stock: AWS_HOST_IDENTIFIER).
	HostIdentifier string `yaml:"host_identifier"`
	// InstanceName is the registered instance name; informational (logs).
	InstanceName string `yaml:"instance_name"`

	// RootDir is the deployment root (stock: :root_dir:).
	RootDir string `yaml:"root_dir"`
	// LogDir holds <program_name>.log (stock: :log_dir:).
	LogDir string `yaml:"log_dir"`
	// ProgramName names the log file (stock: :program_name:).
	ProgramName string `yaml:"program_name"`
	// Verbose enables debug logging (stock: :verbose:).
	Verbose bool `yaml:"verbose"`
	// MaxRevisions is how many deployment directories of a deployment
	// group are kept, the current one included (stock: :max_revisions:).
	MaxRevisions int `yaml:"max_revisions"`
	// MaxBundleBytes bounds how many bytes a bundle may unpack to, in
	// total and per file, so that a zip bomb cannot fill the host's disk
	// (default 10 GiB in total, 5 GiB per file; Slipway only).
	MaxBundleBytes int64 `yaml:"max_bundle_bytes"`
	// WaitBetweenRuns is the pause, in seconds, after a poll that returned
	// no command (stock: :wait_between_runs:).
	WaitBetweenRuns Seconds `yaml:"wait_between_runs"`
	// HTTPReadTimeout bounds one command-service call, in seconds; it must
	// exceed the server's long-poll time (stock: :http_read_timeout:).
	HTTPReadTimeout Seconds `yaml:"http_read_timeout"`
	// MaxBackoff caps the pause after consecutive errors (stock: 90 s,
	// fixed in base.rb).
	MaxBackoff Seconds `yaml:"max_backoff"`
	// Keepalive is how often, while a command runs (the agent does not
	// poll then), the agent tells the server it is alive with an empty
	// PostHostCommandUpdate; keep it well under the server's
	// --agent-lease (default 10 s; Slipway only).
	Keepalive Seconds `yaml:"keepalive_interval"`
	// KillAgentMaxWait is how long a stopping agent lets the current
	// command run before killing its scripts (stock:
	// :kill_agent_max_wait_time_seconds:).
	KillAgentMaxWait Seconds `yaml:"kill_agent_max_wait_time_seconds"`
	// EnableDeploymentsLog writes deployment-logs/codedeploy-agent-deployments.log
	// (stock: :enable_deployments_log:). Default true.
	EnableDeploymentsLog *bool `yaml:"enable_deployments_log"`
	// OngoingDeploymentTracking is the tracking directory's name under
	// RootDir (stock: :ongoing_deployment_tracking:).
	OngoingDeploymentTracking string `yaml:"ongoing_deployment_tracking"`
	// ProxyURI is an HTTP(S) proxy (stock: :proxy_uri:).
	ProxyURI string `yaml:"proxy_uri"`
	// CAFile is a PEM bundle trusted for the server's TLS certificate
	// (stock: SSL_CERT_FILE).
	CAFile string `yaml:"ca_file"`
	// InstallRoot, when set, is prefixed to every AppSpec destination and
	// permissions object (Slipway only; --install-root).
	InstallRoot string `yaml:"install_root"`
	// HookWorkingDir is the working directory of hook scripts; default the
	// agent's own working directory, as with the stock agent (whose systemd
	// unit runs in /opt/codedeploy-agent).
	HookWorkingDir string `yaml:"hook_working_dir"`
	// BundleAuth is how bundle downloads authenticate: sigv4 (default) or
	// basic (access key ID and secret as user and password).
	BundleAuth string `yaml:"bundle_auth"`
	// AllowUnsignedSpecs accepts TEXT/JSON deployment specifications (the
	// stock agent accepts them only as codedeploy-local). Default false.
	AllowUnsignedSpecs bool `yaml:"allow_unsigned_specs"`
}

// Seconds is a duration written as a whole number of seconds, as the stock
// agent's configuration writes them; a Go duration string ("1m30s") is also
// accepted.
type Seconds time.Duration

// UnmarshalYAML reads a number of seconds or a duration string.
func (s *Seconds) UnmarshalYAML(n *yaml.Node) error {
	var f float64
	if err := n.Decode(&f); err == nil {
		*s = Seconds(time.Duration(f * float64(time.Second)))
		return nil
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is neither a number of seconds nor a duration like 90s", n.Line, n.Value)
	}
	*s = Seconds(d)
	return nil
}

// D returns s as a time.Duration.
func (s Seconds) D() time.Duration { return time.Duration(s) }

// keyAliases maps the stock agent's key names to this file's.
var keyAliases = map[string]string{
	"deploy_control_endpoint": "endpoint",
	"aws_host_identifier":     "host_identifier",
}

// LoadConfig reads and validates the configuration file at path.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("agent config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses a configuration file, fills in defaults and
// validates it. Unknown keys are errors.
func ParseConfig(data []byte) (*Config, error) {
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	norm := map[string]*yaml.Node{}
	for k, v := range raw {
		name := strings.Trim(k, ":")
		if a, ok := keyAliases[name]; ok {
			name = a
		}
		if _, dup := norm[name]; dup {
			return nil, fmt.Errorf("key %s is given twice", name)
		}
		v := v
		norm[name] = &v
	}
	// Re-encode under the normalised names and decode strictly.
	doc := &yaml.Node{Kind: yaml.MappingNode}
	for k, v := range norm {
		doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
	}
	buf, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(buf))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	c.SetDefaults()
	return c, c.Validate()
}

// SetDefaults fills in every unset key.
func (c *Config) SetDefaults() {
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.RootDir == "" {
		c.RootDir = DefaultRootDir
	}
	if c.LogDir == "" {
		c.LogDir = DefaultLogDir
	}
	if c.ProgramName == "" {
		c.ProgramName = DefaultProgramName
	}
	if c.MaxRevisions == 0 {
		c.MaxRevisions = DefaultMaxRevisions
	}
	if c.WaitBetweenRuns == 0 {
		c.WaitBetweenRuns = Seconds(DefaultWaitBetweenRuns)
	}
	if c.HTTPReadTimeout == 0 {
		c.HTTPReadTimeout = Seconds(DefaultHTTPReadTimeout)
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = Seconds(DefaultMaxBackoff)
	}
	if c.Keepalive == 0 {
		c.Keepalive = Seconds(DefaultKeepalive)
	}
	if c.KillAgentMaxWait == 0 {
		c.KillAgentMaxWait = Seconds(DefaultKillAgentMaxWait)
	}
	if c.EnableDeploymentsLog == nil {
		t := true
		c.EnableDeploymentsLog = &t
	}
	if c.OngoingDeploymentTracking == "" {
		c.OngoingDeploymentTracking = DefaultOngoingDeployment
	}
	if c.Profile == "" {
		c.Profile = "default"
	}
	if c.BundleAuth == "" {
		c.BundleAuth = "sigv4"
	}
}

// Validate checks the configuration after SetDefaults.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Endpoint == "" {
		bad("endpoint is required: the Slipway server's URL, e.g. https://slipway.example.com:7700")
	} else if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("endpoint %q is not an http:// or https:// URL", c.Endpoint)
	}
	if c.IAMUserARN != "" && c.IAMSessionARN != "" {
		bad("set iam_user_arn or iam_session_arn, not both (the stock agent refuses both too)")
	}
	if c.HostID() == "" {
		bad("no host identifier: set iam_user_arn (or iam_session_arn, or host_identifier) to the ARN the instance was registered with")
	}
	if c.CredentialsFile == "" && (c.AccessKeyID == "" || c.SecretAccessKey == "") {
		bad("no credentials: set aws_access_key_id and aws_secret_access_key, or aws_credentials_file")
	}
	if c.CredentialsFile != "" && c.AccessKeyID != "" {
		bad("set aws_access_key_id or aws_credentials_file, not both")
	}
	if c.MaxBundleBytes < 0 {
		bad("max_bundle_bytes must not be negative, not %d", c.MaxBundleBytes)
	}
	if c.MaxRevisions < 1 {
		bad("max_revisions must be a positive integer, not %d", c.MaxRevisions)
	}
	if c.WaitBetweenRuns < 0 || c.HTTPReadTimeout < 0 || c.MaxBackoff < 0 || c.KillAgentMaxWait < 0 || c.Keepalive < 0 {
		bad("durations must not be negative")
	}
	if !filepath.IsAbs(c.RootDir) {
		bad("root_dir %q must be an absolute path", c.RootDir)
	}
	if c.InstallRoot != "" && !filepath.IsAbs(c.InstallRoot) {
		bad("install_root %q must be an absolute path", c.InstallRoot)
	}
	if c.BundleAuth != "sigv4" && c.BundleAuth != "basic" {
		bad("bundle_auth must be sigv4 or basic, not %q", c.BundleAuth)
	}
	if c.ProxyURI != "" {
		if _, err := url.Parse(c.ProxyURI); err != nil {
			bad("proxy_uri: %v", err)
		}
	}
	if strings.ContainsAny(c.OngoingDeploymentTracking, `/\`) {
		bad("ongoing_deployment_tracking must be a directory name, not a path")
	}
	return errors.Join(errs...)
}

// HostID returns the host identifier sent with PollHostCommand and
// GetDeploymentSpecification: host_identifier, else iam_session_arn, else
// iam_user_arn (stock: AWS_HOST_IDENTIFIER, set from the on-premises file).
func (c *Config) HostID() string {
	switch {
	case c.HostIdentifier != "":
		return c.HostIdentifier
	case c.IAMSessionARN != "":
		return c.IAMSessionARN
	}
	return c.IAMUserARN
}

// readCredentialsFile reads aws_access_key_id, aws_secret_access_key and
// aws_session_token of profile from an AWS shared-credentials file.
func readCredentialsFile(path, profile string) (id, secret, token string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			name := strings.TrimSpace(line[1 : len(line)-1])
			name = strings.TrimPrefix(name, "profile ")
			in = name == profile
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		case "aws_session_token":
			token = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", "", err
	}
	if id == "" || secret == "" {
		return "", "", "", fmt.Errorf("%s: profile %s has no aws_access_key_id and aws_secret_access_key", path, profile)
	}
	return id, secret, token, nil
}
