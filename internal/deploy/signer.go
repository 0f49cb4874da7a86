package deploy

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/slipway-cd/slipway/internal/hostcmd"
	"github.com/slipway-cd/slipway/internal/store"
)

// SignerSetting is the store setting that holds the key deployment
// specifications are signed with, and its certificate: PEM
// (hostcmd.Signer.MarshalPEM), sealed with the master key, base64.
const SignerSetting = "deploy_signer"

// Sealer seals and opens secrets with the master key (auth.Sealer).
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// LoadOrCreateSigner returns the deployment-spec signing key, which every
// server on the database shares: the one in the store, or else the one in
// dataDir's deploy-signing.{key,pem} files (an installation from before
// the key moved to the database, whose agents keep trusting it), or else a
// new one. The first server stores it in a transaction that reads the
// setting first, so servers starting together agree on one key.
func LoadOrCreateSigner(ctx context.Context, st store.Store, sealer Sealer, dataDir string, logger *slog.Logger) (*hostcmd.Signer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s, err := storedSigner(ctx, st, sealer)
	if err == nil {
		warnStaleFiles(dataDir, s, logger)
		return s, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}

	candidate, err := hostcmd.ReadSignerFiles(dataDir)
	imported := err == nil
	switch {
	case errors.Is(err, os.ErrNotExist):
		if candidate, err = hostcmd.NewSigner("Slipway deployment signer"); err != nil {
			return nil, fmt.Errorf("create signing key: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("import signing key files: %w", err)
	}
	plain, err := candidate.MarshalPEM()
	if err != nil {
		return nil, err
	}
	sealed, err := sealer.Seal(plain)
	if err != nil {
		return nil, fmt.Errorf("seal signing key: %w", err)
	}
	var winner *hostcmd.Signer
	err = st.InTx(ctx, func(q store.Queries) error {
		s, err := storedSigner(ctx, q, sealer)
		if err == nil {
			winner = s // another server stored one meanwhile
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		winner = candidate
		return q.PutSetting(ctx, SignerSetting, base64.StdEncoding.EncodeToString(sealed))
	})
	if err != nil {
		return nil, fmt.Errorf("store signing key: %w", err)
	}
	switch {
	case winner != candidate:
		warnStaleFiles(dataDir, winner, logger)
	case imported:
		logger.Info("deployment signing key imported into the database from the data directory", "dir", dataDir)
	default:
		logger.Info("deployment signing key created in the database")
	}
	return winner, nil
}

// storedSigner reads the signing key from the settings; store.ErrNotFound
// if there is none.
func storedSigner(ctx context.Context, q interface {
	GetSetting(ctx context.Context, key string) (string, error)
}, sealer Sealer) (*hostcmd.Signer, error) {
	v, err := q.GetSetting(ctx, SignerSetting)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	sealed, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("setting %s is not base64: %w", SignerSetting, err)
	}
	plain, err := sealer.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open signing key (setting %s): %w", SignerSetting, err)
	}
	s, err := hostcmd.ParseSignerPEM(plain)
	if err != nil {
		return nil, fmt.Errorf("signing key (setting %s): %w", SignerSetting, err)
	}
	return s, nil
}

// warnStaleFiles logs when dataDir holds signing key files other than the
// shared key: they are not used.
func warnStaleFiles(dataDir string, shared *hostcmd.Signer, logger *slog.Logger) {
	local, err := hostcmd.ReadSignerFiles(dataDir)
	if err != nil || local.Cert.Equal(shared.Cert) {
		return
	}
	logger.Warn("the deployment signing key files in the data directory are not the key this database holds; "+
		"deployment specifications are signed with the database's key", "dir", dataDir)
}
