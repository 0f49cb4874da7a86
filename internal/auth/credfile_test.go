package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func checkFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s =\n%s\nwant\n%s", filepath.Base(path), b, want)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode = %v, want 0600", filepath.Base(path), fi.Mode().Perm())
	}
}

func TestCredentialsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "aws", "credentials")
	if err := WriteCredentialsFile(path, testKeyID, testSecret, ""); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, "[default]\naws_access_key_id = "+testKeyID+"\naws_secret_access_key = "+testSecret+"\nregion = us-east-1\n")

	if err := WriteCredentialsFile(path, testKeyID, testSecret, "eu-west-3"); err != nil { // replaces
		t.Fatal(err)
	}
	id, secret, region, err := ReadCredentialsFile(path, "")
	if err != nil || id != testKeyID || secret != testSecret || region != "eu-west-3" {
		t.Fatalf("ReadCredentialsFile = %q, %q, %q, %v", id, secret, region, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want no temporary files left", len(entries))
	}

	for _, bad := range []struct{ id, secret, region string }{
		{"AKIA\nregion", testSecret, ""},
		{testKeyID, testSecret + "\n[evil]", ""},
		{testKeyID, testSecret, "us east"},
	} {
		err := WriteCredentialsFile(path, bad.id, bad.secret, bad.region)
		if err == nil {
			t.Errorf("WriteCredentialsFile(%q, ..., %q) succeeded", bad.id, bad.region)
		} else if strings.Contains(err.Error(), testSecret) {
			t.Errorf("error %q reveals the secret", err)
		}
	}
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config")
	if err := WriteConfigFile(path, ""); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, "[default]\nregion = us-east-1\n")
	if err := WriteConfigFile(path, "ap-south-1"); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, "[default]\nregion = ap-south-1\n")
	if err := WriteConfigFile(path, "x\ny"); err == nil {
		t.Error("WriteConfigFile accepted a region with a newline")
	}
}

func TestReadCredentialsFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials")
	content := "# comment\r\n[default]\r\naws_access_key_id=AKIADEFAULTDEFAULT00\r\naws_secret_access_key=d\r\n\n" +
		"[slipway]\n; another comment\nAWS_Access_Key_ID = " + testKeyID + "\n  nested = ignored\naws_secret_access_key = " + testSecret + "\n" +
		"[partial]\naws_access_key_id = AKIAPARTIALPARTIAL00\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	id, secret, region, err := ReadCredentialsFile(path, "slipway")
	if err != nil || id != testKeyID || secret != testSecret || region != "" {
		t.Fatalf("ReadCredentialsFile(slipway) = %q, %q, %q, %v", id, secret, region, err)
	}
	if id, _, _, err := ReadCredentialsFile(path, "default"); err != nil || id != "AKIADEFAULTDEFAULT00" {
		t.Errorf("ReadCredentialsFile(default) = %q, %v", id, err)
	}
	for _, profile := range []string{"missing", "partial"} {
		if _, _, _, err := ReadCredentialsFile(path, profile); err == nil {
			t.Errorf("ReadCredentialsFile(%s) succeeded", profile)
		}
	}
	if _, _, _, err := ReadCredentialsFile(filepath.Join(t.TempDir(), "none"), ""); err == nil {
		t.Error("ReadCredentialsFile of a missing file succeeded")
	}
}
