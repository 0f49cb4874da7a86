package hostcmd

import (
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testSpec() *Spec {
	return &Spec{
		DeploymentId: "d-ABCDEFGHI", DeploymentGroupId: "dg-1", DeploymentGroupName: "dg", ApplicationName: "app",
		DeploymentCreator: "user", DeploymentType: "IN_PLACE", AppSpecFilename: "appspec.yml",
		AgentActionOverrides:       &AgentActionOverrides{AgentOverrides{FileExistsBehavior: "OVERWRITE"}},
		AllPossibleLifecycleEvents: CommandNames(),
		Revision:                   Revision{RevisionType: RevisionS3, S3Revision: &S3Revision{Bucket: "b", Key: "k.zip", BundleType: "zip"}},
		SlipwayBundleUrl:           "/deploy/bundles/d-ABCDEFGHI",
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := LoadOrCreateSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{KeyFile, CertFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi, err)
		}
	}
	again, err := LoadOrCreateSigner(dir)
	if err != nil || !again.Cert.Equal(s.Cert) {
		t.Fatalf("reload: %v", err)
	}
	env, err := s.Sign(testSpec())
	if err != nil {
		t.Fatal(err)
	}
	if env.Format != "PKCS7/JSON" || !strings.HasPrefix(env.Payload, "-----BEGIN PKCS7-----") {
		t.Fatalf("envelope %q", env.Format)
	}
	got, err := Verify(env)
	if err != nil {
		t.Fatal(err)
	}
	if got.DeploymentId != "d-ABCDEFGHI" || got.Revision.S3Revision.Key != "k.zip" || got.FileExistsBehavior() != "OVERWRITE" {
		t.Fatalf("spec %+v", got)
	}
	if err := got.Check(); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyWith(env, again.Cert); err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner("other")
	if _, err := VerifyWith(env, other.Cert); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("untrusted signer: %v", err)
	}
	if BundleURL("http://h:1/", got) != "http://h:1/deploy/bundles/d-ABCDEFGHI" {
		t.Fatal(BundleURL("http://h:1/", got))
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	s, err := NewSigner("t")
	if err != nil {
		t.Fatal(err)
	}
	env, err := s.Sign(testSpec())
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(env.Payload))
	der := block.Bytes
	i := strings.Index(string(der), "k.zip")
	if i < 0 {
		t.Fatal("content not attached")
	}
	bad := append([]byte(nil), der...)
	bad[i] = 'x'
	tampered := Envelope{Format: FormatPKCS7JSON, Payload: string(pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: bad}))}
	if _, err := Verify(tampered); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered content verified: %v", err)
	}
	if _, err := Verify(Envelope{Format: "TEXT/JSON", Payload: "{}"}); err == nil {
		t.Fatal("TEXT/JSON accepted")
	}
	if _, err := Verify(Envelope{Format: FormatPKCS7JSON, Payload: "junk"}); !errors.Is(err, ErrBadSignature) {
		t.Fatal(err)
	}
}

func TestDiagnostics(t *testing.T) {
	d := Diagnostics{ErrorCode: CodeScriptFailed, ScriptName: "scripts/v.sh", Message: "boom", Log: strings.Repeat("x", 10000)}
	env := d.Envelope()
	if len(env.Payload) > MaxPayload || env.Format != FormatJSON {
		t.Fatalf("payload %d", len(env.Payload))
	}
	back, err := ParseDiagnostics(env)
	if err != nil || back.ErrorCode != 4 || back.ScriptName != "scripts/v.sh" {
		t.Fatalf("%+v %v", back, err)
	}
	for code, want := range map[int]string{0: "Success", 1: "ScriptMissing", 2: "ScriptNotExecutable", 3: "ScriptTimedOut", 4: "ScriptFailed", 5: "UnknownError", 6: "ScriptFailed", 7: "UnknownError", 99: "UnknownError"} {
		if got := LifecycleErrorCode(code); got != want {
			t.Errorf("LifecycleErrorCode(%d) = %s, want %s", code, got, want)
		}
	}
	id := ExecutionID("d-ABC", "web/1")
	dep, inst, ok := ParseExecutionID(id)
	if !ok || dep != "d-ABC" || inst != "web/1" {
		t.Fatal(id)
	}
	if (AckPayload{IsCommandNoop: true}).Envelope().Payload != `{"IsCommandNoop":true}` {
		t.Fatal("ack")
	}
}
