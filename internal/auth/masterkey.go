package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/slipway-cd/slipway/internal/store"
)

// MasterKeyCheckSetting is the store setting that holds a value sealed
// with the master key at the first start, by which every later start (of
// any server on the database) checks that it has the same key.
const MasterKeyCheckSetting = "master_key_check"

// masterKeyCheckPlain is what the check value seals.
const masterKeyCheckPlain = "slipway master key check"

// ErrMasterKeyMismatch reports a master key that does not open what the
// database was sealed with.
var ErrMasterKeyMismatch = errors.New("this database was sealed with a different master key")

// MasterKeyStore is the part of store.Store the master key check needs.
type MasterKeyStore interface {
	InTx(ctx context.Context, fn func(q store.Queries) error) error
}

// CheckMasterKey makes sure that sealer holds the master key the database
// was sealed with, so that servers sharing a database never seal secrets
// under different keys: it opens the check value stored in the settings,
// or, when there is none yet, stores one (after opening an existing
// access-key secret, if any, for a database from before the check). Two
// servers starting together agree: the value is written in a transaction
// that reads it first. keyPath names the key file in the error, which
// says to copy the first server's file over it.
func CheckMasterKey(ctx context.Context, st MasterKeyStore, sealer *Sealer, keyPath string) error {
	mismatch := func(what string) error {
		return fmt.Errorf("%w (%s): copy master.key from the data directory of the server that first used this database "+
			"to %s on this server, then start it again", ErrMasterKeyMismatch, what, keyPath)
	}
	return st.InTx(ctx, func(q store.Queries) error {
		v, err := q.GetSetting(ctx, MasterKeyCheckSetting)
		if err == nil {
			sealed, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return fmt.Errorf("master key check: setting %s is not base64: %w", MasterKeyCheckSetting, err)
			}
			plain, err := sealer.Open(sealed)
			if err != nil || subtle.ConstantTimeCompare(plain, []byte(masterKeyCheckPlain)) != 1 {
				return mismatch("the stored check value does not open")
			}
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("master key check: read setting: %w", err)
		}
		keys, err := q.ListAccessKeys(ctx)
		if err != nil {
			return fmt.Errorf("master key check: list access keys: %w", err)
		}
		if len(keys) > 0 {
			if _, err := sealer.Open(keys[0].SealedSecret); err != nil {
				return mismatch("access key " + keys[0].ID + " does not open")
			}
		}
		sealed, err := sealer.Seal([]byte(masterKeyCheckPlain))
		if err != nil {
			return fmt.Errorf("master key check: %w", err)
		}
		if err := q.PutSetting(ctx, MasterKeyCheckSetting, base64.StdEncoding.EncodeToString(sealed)); err != nil {
			return fmt.Errorf("master key check: store check value: %w", err)
		}
		return nil
	})
}
