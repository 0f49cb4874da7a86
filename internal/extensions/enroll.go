package extensions

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// ErrBadEnrollmentToken is what RedeemEnrollmentToken returns for a token
// that is malformed, unknown, expired or used up; deliberately one error,
// so a caller learns nothing about which.
var ErrBadEnrollmentToken = errors.New("the enrollment token is invalid, expired or used up")

// enrollTokenPrefix starts every enrollment token, so one is recognisable
// in a configuration or a leak scan.
const enrollTokenPrefix = "swe_"

// CreateEnrollmentToken creates an enrollment token: a random secret,
// returned only here, of which the store keeps the SHA-256.
func (s *Service) CreateEnrollmentToken(ctx context.Context, in *slipwayapi.CreateEnrollmentTokenInput) (*slipwayapi.CreateEnrollmentTokenOutput, error) {
	expires := in.ExpiresInSeconds
	if expires == 0 {
		expires = slipwayapi.DefaultEnrollmentExpiresSeconds
	}
	maxUses := in.MaxUses
	if maxUses == 0 {
		maxUses = slipwayapi.DefaultEnrollmentMaxUses
	}
	idBytes, secret := make([]byte, 8), make([]byte, 32)
	rand.Read(idBytes)
	rand.Read(secret)
	id := hex.EncodeToString(idBytes)
	token := enrollTokenPrefix + id + "_" + hex.EncodeToString(secret)
	now := s.now()
	t := &store.EnrollmentToken{ID: id, TokenHash: hashToken(token), Tags: make([]store.Tag, 0, len(in.Tags)),
		MaxUses: int(maxUses), Expires: now.Add(time.Duration(expires) * time.Second), Created: now}
	for _, tag := range in.Tags {
		t.Tags = append(t.Tags, store.Tag{Key: tag.Key, Value: tag.Value})
	}
	if err := s.Store.CreateEnrollmentToken(ctx, t); err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "enrollment token created", "token_id", id, "max_uses", maxUses, "expires", t.Expires,
		"by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.CreateEnrollmentTokenOutput{TokenID: id, Token: token, Expires: awsproto.NewTime(t.Expires)}, nil
}

// ListEnrollmentTokens returns every token, without secrets.
func (s *Service) ListEnrollmentTokens(ctx context.Context, _ *slipwayapi.ListEnrollmentTokensInput) (*slipwayapi.ListEnrollmentTokensOutput, error) {
	ts, err := s.Store.ListEnrollmentTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := &slipwayapi.ListEnrollmentTokensOutput{Tokens: make([]slipwayapi.EnrollmentToken, 0, len(ts))}
	for _, t := range ts {
		w := slipwayapi.EnrollmentToken{TokenID: t.ID, Tags: make([]slipwayapi.EnrollmentTag, 0, len(t.Tags)),
			MaxUses: int64(t.MaxUses), Uses: int64(t.Uses), Expires: awsproto.NewTime(t.Expires), Created: awsproto.NewTime(t.Created)}
		for _, tag := range t.Tags {
			w.Tags = append(w.Tags, slipwayapi.EnrollmentTag{Key: tag.Key, Value: tag.Value})
		}
		out.Tokens = append(out.Tokens, w)
	}
	return out, nil
}

// DeleteEnrollmentToken revokes a token.
func (s *Service) DeleteEnrollmentToken(ctx context.Context, in *slipwayapi.DeleteEnrollmentTokenInput) (*slipwayapi.DeleteEnrollmentTokenOutput, error) {
	if err := s.Store.DeleteEnrollmentToken(ctx, in.TokenID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, awsproto.Errorf(slipwayapi.ResourceNotFoundException, "enrollment token %q does not exist", in.TokenID)
		}
		return nil, err
	}
	s.logger().InfoContext(ctx, "enrollment token deleted", "token_id", in.TokenID, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.DeleteEnrollmentTokenOutput{}, nil
}

// RedeemEnrollmentToken checks token (comparing its SHA-256 in constant
// time) and counts one use of it: ErrBadEnrollmentToken if it is
// malformed, unknown, expired or used up. Give the use back with
// ReleaseEnrollmentToken if the enrollment then fails.
func (s *Service) RedeemEnrollmentToken(ctx context.Context, token string) (*store.EnrollmentToken, error) {
	rest, ok := strings.CutPrefix(token, enrollTokenPrefix)
	id, _, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || id == "" {
		return nil, ErrBadEnrollmentToken
	}
	t, err := s.Store.GetEnrollmentToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrBadEnrollmentToken
	} else if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(t.TokenHash)) != 1 {
		return nil, ErrBadEnrollmentToken
	}
	if err := s.Store.UseEnrollmentToken(ctx, id, s.now()); errors.Is(err, store.ErrNotFound) {
		return nil, ErrBadEnrollmentToken
	} else if err != nil {
		return nil, err
	}
	t.Uses++
	return t, nil
}

// ReleaseEnrollmentToken gives back the use RedeemEnrollmentToken counted.
func (s *Service) ReleaseEnrollmentToken(ctx context.Context, id string) {
	if err := s.Store.ReleaseEnrollmentToken(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.logger().ErrorContext(ctx, "cannot release enrollment token use", "token_id", id, "err", err)
	}
}

// InstanceUserArn is the user ARN of the key CreateInstanceCredentials
// makes for instance name.
func (s *Service) InstanceUserArn(name string) string {
	return "arn:aws:iam::" + s.AccountID + ":user/" + InstanceUserPrefix + name
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
