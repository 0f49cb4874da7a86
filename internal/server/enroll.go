package server

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/slipway-cd/slipway/internal/agent"
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/codedeploy"
	"github.com/slipway-cd/slipway/internal/extensions"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// enrollHandler serves POST /enroll: an agent presents an enrollment
// token (the credential; no SigV4) and an instance name, and gets back
// the configuration of a newly registered, tagged instance with its own
// access key (docs/agent.md, "Enrollment").
type enrollHandler struct {
	ext      *extensions.Service
	cd       *codedeploy.Service
	endpoint func() string
	region   string
	logger   *slog.Logger
}

func (h *enrollHandler) fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(&slipwayapi.EnrollError{Code: code, Message: msg})
}

func (h *enrollHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var in slipwayapi.EnrollRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
		h.fail(w, http.StatusBadRequest, "BadRequest", "the body must be JSON {\"token\": ..., \"instanceName\": ...}")
		return
	}
	if in.Token == "" {
		h.fail(w, http.StatusUnauthorized, "InvalidEnrollmentToken", "no enrollment token given")
		return
	}
	if err := (&slipwayapi.CreateInstanceCredentialsInput{InstanceName: in.InstanceName}).Validate(); err != nil {
		h.fail(w, http.StatusBadRequest, "InvalidInstanceName", err.Error())
		return
	}
	tok, err := h.ext.RedeemEnrollmentToken(ctx, in.Token)
	if errors.Is(err, extensions.ErrBadEnrollmentToken) {
		h.logger.WarnContext(ctx, "enrollment refused", "instance", in.InstanceName, "remote", r.RemoteAddr)
		h.fail(w, http.StatusUnauthorized, "InvalidEnrollmentToken", err.Error())
		return
	} else if err != nil {
		h.logger.ErrorContext(ctx, "enrollment", "err", err)
		h.fail(w, http.StatusInternalServerError, "InternalError", "internal error")
		return
	}
	// Register first, with the ARN of the key made below, so a token
	// cannot mint a key for an instance that is registered already.
	userArn := h.ext.InstanceUserArn(in.InstanceName)
	if _, err := h.cd.RegisterOnPremisesInstance(ctx, &cdapi.RegisterOnPremisesInstanceInput{
		InstanceName: in.InstanceName, IamUserArn: userArn}); err != nil {
		h.ext.ReleaseEnrollmentToken(ctx, tok.ID)
		h.apiFail(w, r, err, http.StatusConflict)
		return
	}
	if len(tok.Tags) > 0 {
		tags := make([]cdapi.Tag, 0, len(tok.Tags))
		for _, t := range tok.Tags {
			tags = append(tags, cdapi.Tag{Key: t.Key, Value: t.Value})
		}
		if _, err := h.cd.AddTagsToOnPremisesInstances(ctx, &cdapi.AddTagsToOnPremisesInstancesInput{
			InstanceNames: []string{in.InstanceName}, Tags: tags}); err != nil {
			h.undo(r, in.InstanceName, tok.ID)
			h.apiFail(w, r, err, http.StatusBadRequest)
			return
		}
	}
	key, err := h.ext.CreateInstanceCredentials(ctx, &slipwayapi.CreateInstanceCredentialsInput{InstanceName: in.InstanceName})
	if err == nil && key.UserArn != userArn {
		err = errors.New("instance credentials have user ARN " + key.UserArn + ", want " + userArn)
	}
	if err != nil {
		h.undo(r, in.InstanceName, tok.ID)
		h.apiFail(w, r, err, http.StatusInternalServerError)
		return
	}
	cfg, err := agent.RegistrationConfig(&agent.Registration{Endpoint: h.endpoint(), Region: h.region,
		AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey, IAMUserARN: key.UserArn,
		InstanceName: in.InstanceName, RootDir: agent.DefaultRootDir, LogDir: agent.DefaultLogDir})
	if err != nil {
		h.apiFail(w, r, err, http.StatusInternalServerError)
		return
	}
	h.logger.InfoContext(ctx, "instance enrolled", "instance", in.InstanceName, "token_id", tok.ID,
		"access_key_id", key.AccessKeyID, "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(&slipwayapi.EnrollResponse{InstanceName: in.InstanceName, IamUserArn: key.UserArn, Config: string(cfg)})
}

// undo deregisters a half-enrolled instance and gives the token's use back.
func (h *enrollHandler) undo(r *http.Request, name, tokenID string) {
	if _, err := h.cd.DeregisterOnPremisesInstance(r.Context(), &cdapi.DeregisterOnPremisesInstanceInput{InstanceName: name}); err != nil {
		h.logger.ErrorContext(r.Context(), "cannot deregister a half-enrolled instance", "instance", name, "err", err)
	}
	h.ext.ReleaseEnrollmentToken(r.Context(), tokenID)
}

// apiFail answers with an API error's code and message (status for
// modelled errors), or a bare internal error.
func (h *enrollHandler) apiFail(w http.ResponseWriter, r *http.Request, err error, status int) {
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		h.fail(w, status, ae.Code, ae.Message)
		return
	}
	h.logger.ErrorContext(r.Context(), "enrollment", "err", err)
	h.fail(w, http.StatusInternalServerError, "InternalError", "internal error")
}
