package hostcmd

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestSignerPEM(t *testing.T) {
	a, err := NewSigner("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSigner("b")
	if err != nil {
		t.Fatal(err)
	}
	pa, err := a.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSignerPEM(pa)
	if err != nil {
		t.Fatalf("ParseSignerPEM: %v", err)
	}
	if !back.Cert.Equal(a.Cert) {
		t.Fatal("certificate changed in the round trip")
	}
	env, err := back.Sign(&Spec{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyWith(env, a.Cert); err != nil {
		t.Fatalf("a signature by the parsed key does not verify: %v", err)
	}

	keyA, certA, _ := bytes.Cut(pa, []byte("-----BEGIN CERTIFICATE"))
	certA = append([]byte("-----BEGIN CERTIFICATE"), certA...)
	_, certB, _ := bytes.Cut(pb, []byte("-----BEGIN CERTIFICATE"))
	certB = append([]byte("-----BEGIN CERTIFICATE"), certB...)
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "no PEM PRIVATE KEY"},
		{"key only", keyA, "no PEM CERTIFICATE"},
		{"certificate only", certA, "no PEM PRIVATE KEY"},
		{"another key's certificate", append(append([]byte{}, keyA...), certB...), "not the private key's"},
		{"damaged key", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSignerPEM(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseSignerPEM = %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := ParseSignerPEM(append(append([]byte{}, certA...), keyA...)); err != nil {
		t.Errorf("certificate before key: %v", err)
	}
}

func TestReadSignerFilesMissing(t *testing.T) {
	if _, err := ReadSignerFiles(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadSignerFiles of an empty dir = %v, want os.ErrNotExist", err)
	}
}
