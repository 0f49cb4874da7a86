package hostcmd

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/smallstep/pkcs7"
)

// Signer signs deployment specifications: a private key and its
// certificate, embedded in every signature.
type Signer struct {
	Key  crypto.Signer
	Cert *x509.Certificate
}

// Sign returns spec as a PKCS7/JSON envelope: a PEM "PKCS7" block holding
// a SignedData with the JSON attached and s.Cert embedded, which the stock
// agent reads with OpenSSL (PKCS7#verify with NOVERIFY, then #data).
func (s *Signer) Sign(spec *Spec) (Envelope, error) {
	return Sign(spec, s.Key, s.Cert)
}

// Sign signs spec with key; cert is key's certificate.
func Sign(spec *Spec, key crypto.Signer, cert *x509.Certificate) (Envelope, error) {
	body, err := json.Marshal(spec)
	if err != nil {
		return Envelope{}, err
	}
	return signBody(body, &Signer{Key: key, Cert: cert})
}

// signBody signs the JSON of a specification with s.
func signBody(body []byte, s *Signer) (Envelope, error) {
	key, cert := s.Key, s.Cert
	sd, err := pkcs7.NewSignedData(body)
	if err != nil {
		return Envelope{}, fmt.Errorf("hostcmd: sign: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{}); err != nil {
		return Envelope{}, fmt.Errorf("hostcmd: sign: %w", err)
	}
	der, err := sd.Finish()
	if err != nil {
		return Envelope{}, fmt.Errorf("hostcmd: sign: %w", err)
	}
	return Envelope{Format: FormatPKCS7JSON, Payload: string(pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: der}))}, nil
}

// ErrBadSignature reports an envelope whose signature does not verify.
var ErrBadSignature = errors.New("hostcmd: Validation of PKCS7 signed message failed")

// Verify checks a PKCS7/JSON envelope's signature with the signer
// certificate embedded in it and returns the specification. Like the
// stock agent it does not check the certificate's chain; use VerifyWith
// to pin the server's certificate.
func Verify(e Envelope) (*Spec, error) { return VerifyWith(e, nil) }

// VerifyWith is Verify that, when trusted is non-nil, also requires the
// signer certificate to be trusted itself (byte-equal).
func VerifyWith(e Envelope, trusted *x509.Certificate) (*Spec, error) {
	if e.Format != FormatPKCS7JSON {
		return nil, fmt.Errorf("hostcmd: Unsupported DeploymentSpecification format: %s", e.Format)
	}
	block, _ := pem.Decode([]byte(e.Payload))
	if block == nil {
		return nil, fmt.Errorf("%w: payload is not PEM", ErrBadSignature)
	}
	p7, err := pkcs7.Parse(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if err := p7.Verify(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if trusted != nil {
		signer := p7.GetOnlySigner()
		if signer == nil || !signer.Equal(trusted) {
			return nil, fmt.Errorf("%w: signed by an untrusted certificate", ErrBadSignature)
		}
	}
	var spec Spec
	if err := json.Unmarshal(p7.Content, &spec); err != nil {
		return nil, fmt.Errorf("hostcmd: deployment specification: %w", err)
	}
	return &spec, nil
}

// Signing key files under the server's data directory.
const (
	KeyFile  = "deploy-signing.key"
	CertFile = "deploy-signing.pem"
)

// LoadOrCreateSigner reads dir/deploy-signing.{key,pem}, creating an
// RSA 2048 key (what the stock agent's OpenSSL verifies everywhere) and a
// self-signed certificate valid for 20 years (files mode 0600) when they
// do not exist yet. Servers keep the key in their database instead
// (deploy.LoadOrCreateSigner) and only import these files.
func LoadOrCreateSigner(dir string) (*Signer, error) {
	s, err := ReadSignerFiles(dir)
	if !errors.Is(err, os.ErrNotExist) {
		return s, err
	}
	if s, err = NewSigner("Slipway deployment signer"); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(s.Key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, CertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Cert.Raw}), 0o600); err != nil {
		return nil, err
	}
	return s, nil
}

// ReadSignerFiles reads dir/deploy-signing.{key,pem}; the error wraps
// os.ErrNotExist when neither file exists.
func ReadSignerFiles(dir string) (*Signer, error) {
	keyPath, certPath := filepath.Join(dir, KeyFile), filepath.Join(dir, CertFile)
	keyPEM, kerr := os.ReadFile(keyPath)
	certPEM, cerr := os.ReadFile(certPath)
	if errors.Is(kerr, os.ErrNotExist) && errors.Is(cerr, os.ErrNotExist) {
		return nil, fmt.Errorf("hostcmd: no signing key in %s: %w", dir, os.ErrNotExist)
	}
	if kerr != nil {
		return nil, fmt.Errorf("hostcmd: %w", kerr)
	}
	if cerr != nil {
		return nil, fmt.Errorf("hostcmd: %w", cerr)
	}
	s, err := ParseSignerPEM(append(append(keyPEM, '\n'), certPEM...))
	if err != nil {
		return nil, fmt.Errorf("hostcmd: %s and %s: %w", keyPath, certPath, err)
	}
	return s, nil
}

// MarshalPEM returns the key (PKCS8 "PRIVATE KEY") and the certificate
// ("CERTIFICATE") as PEM, the form ParseSignerPEM reads.
func (s *Signer) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(s.Key)
	if err != nil {
		return nil, fmt.Errorf("hostcmd: marshal signing key: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Cert.Raw})...), nil
}

// ParseSignerPEM reads a PKCS8 private key and its certificate from PEM
// blocks in any order; the certificate must be the key's.
func ParseSignerPEM(b []byte) (*Signer, error) {
	var s Signer
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		switch block.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("private key: %w", err)
			}
			signer, ok := k.(crypto.Signer)
			if !ok {
				return nil, errors.New("private key: not a signing key")
			}
			s.Key = signer
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate: %w", err)
			}
			s.Cert = cert
		}
	}
	switch {
	case s.Key == nil:
		return nil, errors.New("no PEM PRIVATE KEY block")
	case s.Cert == nil:
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	pub, ok := s.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(s.Cert.PublicKey) {
		return nil, errors.New("the certificate is not the private key's")
	}
	return &s, nil
}

// NewSigner returns a new RSA 2048 key with a self-signed certificate
// whose common name is cn.
func NewSigner(cn string) (*Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Slipway"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(20, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Signer{Key: key, Cert: cert}, nil
}
