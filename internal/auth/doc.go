// Package auth holds Slipway's identities, access keys and SigV4 request
// verification.
//
// An access key is an AWS-shaped credential (an AKIA… ID and a 40-character
// secret) that belongs to a named user of the single Slipway account. SigV4
// needs the secret itself to recompute a request's HMAC, so the secret cannot
// be stored as a one-way hash. Instead, [Sealer] encrypts it with AES-256-GCM
// under a master key kept in <data-dir>/master.key, and [Keys] hands only
// the sealed form to the store.
//
// [Verifier] implements awsproto.Authenticator. It recomputes each request's
// Signature Version 4 signature and fails with the error codes AWS uses, so
// the AWS CLI and SDKs report failures as their usual typed errors.
// [WriteCredentialsFile] and [WriteConfigFile] write the files those clients
// read.
package auth
