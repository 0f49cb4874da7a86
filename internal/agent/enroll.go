package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// Registration is what a freshly registered instance's agent
// configuration holds: `slipway instance register` and POST /enroll write
// it with RegistrationConfig.
type Registration struct {
	Endpoint        string `yaml:"endpoint"`
	Region          string `yaml:"region"`
	AccessKeyID     string `yaml:"aws_access_key_id"`
	SecretAccessKey string `yaml:"aws_secret_access_key"`
	IAMUserARN      string `yaml:"iam_user_arn"`
	InstanceName    string `yaml:"instance_name"`
	RootDir         string `yaml:"root_dir"`
	LogDir          string `yaml:"log_dir"`
}

// RegistrationConfig returns r as an agent configuration file (YAML with
// a header comment), in the order of the fields.
func RegistrationConfig(r *Registration) ([]byte, error) {
	data, err := yaml.Marshal(r)
	if err != nil {
		return nil, err
	}
	header := "# slipway-agent configuration of instance " + r.InstanceName +
		" (docs/agent.md).\n# It holds the instance's secret access key: keep it private.\n"
	return append([]byte(header), data...), nil
}

// Enroll registers instance name with an enrollment token at the server
// at endpoint (POST /enroll) and returns its agent configuration file.
func Enroll(ctx context.Context, client *http.Client, endpoint, token, name string) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	body, err := json.Marshal(&slipwayapi.EnrollRequest{Token: token, InstanceName: name})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+slipwayapi.EnrollPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e slipwayapi.EnrollError
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			return nil, fmt.Errorf("enroll: %s (HTTP %d): %s", e.Code, resp.StatusCode, e.Message)
		}
		return nil, fmt.Errorf("enroll: HTTP %s", resp.Status)
	}
	var out slipwayapi.EnrollResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("enroll: bad response: %w", err)
	}
	if _, err := ParseConfig([]byte(out.Config)); err != nil {
		return nil, fmt.Errorf("enroll: the server's configuration is invalid: %w", err)
	}
	return []byte(out.Config), nil
}

// WriteNewFile writes data to path with mode 0600; path must not exist.
func WriteNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
