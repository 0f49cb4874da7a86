package auth

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultRegion is the region written to client files when none is given.
const DefaultRegion = "us-east-1"

var (
	regionPattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9+/=]{16,128}$`)
)

// WriteCredentialsFile writes an AWS shared-credentials file at path that
// holds only a [default] profile with the given key and region (DefaultRegion
// if empty). It replaces any existing file, so point AWS_SHARED_CREDENTIALS_FILE
// at it rather than at ~/.aws/credentials. The file has mode 0600 and is
// written atomically (temporary file, then rename).
//
// The region line is for convenience. botocore (the AWS CLI, boto3) and
// aws-sdk-go-v2 both read a profile's region from the credentials file as
// well as from the config file. AWS documents region as a config-file
// setting, though, and not every client reads it from the credentials file.
// Those clients need AWS_REGION/AWS_DEFAULT_REGION, --region, or a config
// file from [WriteConfigFile] named by AWS_CONFIG_FILE.
func WriteCredentialsFile(path, id, secret, region string) error {
	if region == "" {
		region = DefaultRegion
	}
	if !keyIDPattern.MatchString(id) {
		return fmt.Errorf("auth: write credentials file: malformed access key ID")
	}
	if !secretPattern.MatchString(secret) { // never echo the secret
		return fmt.Errorf("auth: write credentials file: malformed secret access key")
	}
	if !regionPattern.MatchString(region) {
		return fmt.Errorf("auth: write credentials file: invalid region %q", region)
	}
	content := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = %s\n", id, secret, region)
	return writeFileAtomic(path, []byte(content))
}

// WriteConfigFile writes an AWS config file at path that holds only a
// [default] profile with the given region (DefaultRegion if empty). Mode,
// atomicity and replacement are as for [WriteCredentialsFile].
func WriteConfigFile(path, region string) error {
	if region == "" {
		region = DefaultRegion
	}
	if !regionPattern.MatchString(region) {
		return fmt.Errorf("auth: write config file: invalid region %q", region)
	}
	return writeFileAtomic(path, []byte("[default]\nregion = "+region+"\n"))
}

// ReadCredentialsFile reads the given profile ("default" if empty) of an
// AWS shared-credentials file. region is empty if the profile sets none.
func ReadCredentialsFile(path, profile string) (id, secret, region string, err error) {
	if profile == "" {
		profile = "default"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", "", fmt.Errorf("auth: read credentials file: %w", err)
	}
	found := false
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == ' ' || line[0] == '\t' { // blank line or continuation of a nested value
			continue
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(line[1 : len(line)-1])
			found = found || section == profile
		case section == profile:
			key, value, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "aws_access_key_id":
				id = strings.TrimSpace(value)
			case "aws_secret_access_key":
				secret = strings.TrimSpace(value)
			case "region":
				region = strings.TrimSpace(value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", "", fmt.Errorf("auth: read credentials file %s: %w", path, err)
	}
	switch {
	case !found:
		return "", "", "", fmt.Errorf("auth: credentials file %s has no [%s] profile", path, profile)
	case id == "" || secret == "":
		return "", "", "", fmt.Errorf("auth: profile [%s] in %s needs both aws_access_key_id and aws_secret_access_key", profile, path)
	}
	return id, secret, region, nil
}

// writeFileAtomic writes data to path with mode 0600 through a temporary
// file in the same directory, so readers see the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("auth: write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // created with mode 0600
	if err != nil {
		return fmt.Errorf("auth: write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("auth: write %s: %w", path, err)
	}
	return nil
}
