package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// MasterKeySize is the size in bytes of the master key (AES-256).
const MasterKeySize = 32

// sealVersion is the first byte of every sealed value. It names the format
// (AES-256-GCM with a random 96-bit nonce) so that a later format or master
// key rotation can tell old values apart.
const sealVersion byte = 1

// Sealer encrypts and authenticates small secrets (access-key secrets) with
// AES-256-GCM so that they are stored only in sealed form. It is safe for
// concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer that uses masterKey, which must be
// [MasterKeySize] bytes long.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("auth: master key is %d bytes, want %d", len(masterKey), MasterKeySize)
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, fmt.Errorf("auth: master key: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("auth: master key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain. The result is a version byte, a random nonce, the
// ciphertext and the GCM tag.
func (s *Sealer) Seal(plain []byte) ([]byte, error) {
	ad := []byte{sealVersion}
	return s.aead.Seal(ad, nil, plain, ad), nil
}

// Open decrypts a value made by Seal. It fails if the value was altered or
// was sealed under another master key.
func (s *Sealer) Open(sealed []byte) ([]byte, error) {
	if len(sealed) == 0 || sealed[0] != sealVersion {
		return nil, errors.New("auth: open sealed secret: unknown format")
	}
	plain, err := s.aead.Open(nil, nil, sealed[1:], sealed[:1])
	if err != nil {
		return nil, fmt.Errorf("auth: open sealed secret (altered, or sealed under another master key): %w", err)
	}
	return plain, nil
}

// LoadOrCreateMasterKey returns the master key stored at path (normally
// <data-dir>/master.key). If the file does not exist, it creates it with a
// new random key and mode 0600. A file of the wrong size is refused, never
// replaced: secrets sealed under the old key could not be opened again.
func LoadOrCreateMasterKey(path string) ([]byte, error) {
	key, err := readMasterKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("auth: generate master key: %w", err)
	}
	if err := createExclusive(path, key); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process created it first
			return readMasterKey(path)
		}
		return nil, fmt.Errorf("auth: create master key: %w", err)
	}
	return key, nil
}

// createExclusive writes data to a new file at path with mode 0600. It
// writes a temporary file and hard-links it into place, so the file appears
// complete or not at all, and an existing file is never replaced (the error
// then wraps fs.ErrExist).
func createExclusive(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Link(f.Name(), path)
}

func readMasterKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("auth: read master key: %w", err)
	}
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("auth: master key file %s holds %d bytes, want exactly %d: it is damaged or not a Slipway master key; restore it from a backup (access-key secrets sealed under the original key cannot be opened without it)", path, len(key), MasterKeySize)
	}
	return key, nil
}
