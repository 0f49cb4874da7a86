package codepipeline

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/store"
)

// Webhooks (PutWebhook, ListWebhooks, DeleteWebhook and the no-op
// Register/DeregisterWebhookWithThirdParty) and the endpoint that receives
// their deliveries, POST <PublicURL>/webhooks/<name> (ServeWebhook), which
// takes no SigV4 signature:
//
//  1. Authentication, by the webhook's type. GITHUB_HMAC: the body's
//     HMAC keyed with the SecretToken, from GitHub's X-Hub-Signature-256
//     ("sha256=<hex>") or X-Hub-Signature ("sha1=<hex>"), Gitea's
//     X-Gitea-Signature (or Gogs' X-Gogs-Signature; "<hex>" SHA-256), or
//     GitLab's X-Gitlab-Token, which must equal the SecretToken. IP: the
//     connection's address is in AllowedIPRange (CIDRs or addresses,
//     comma-separated; X-Forwarded-For is not trusted). UNAUTHENTICATED:
//     anything. A refused delivery is answered 401 (403 for IP) and logged
//     at Info with the webhook's name; nothing starts.
//  2. GitHub's ping event is answered and starts nothing.
//  3. Every filter must match (webhookFilter): the JSONPath's values must
//     include matchEquals, whose {Key} placeholders are the target action's
//     configuration values. A delivery that does not match is answered 200
//     and starts nothing.
//  4. The target pipeline starts (trigger type Webhook), its target action
//     pinned to the pushed commit when it is a git source: "after" (GitHub,
//     Gitea) or "checkout_sha" (GitLab). A branch deletion starts nothing.
//     lastTriggered is then updated.
//
// Secret tokens are sealed at rest and shown as "****". Re-sending "****"
// as the SecretToken of an existing webhook keeps its token.

// Sealer seals and opens secrets (auth.Sealer is one).
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// secretMask is shown in place of a webhook's secret token.
const secretMask = "****"

// maxWebhooks is the webhooks quota (the AWS default per Region).
const maxWebhooks = 300

// maxWebhookBody bounds a delivery's body (GitHub caps payloads at 25 MB).
const maxWebhookBody = 25 << 20

// gitSourceProviders are the source providers whose revisions are commit
// IDs, so a delivery pins them to the pushed commit.
var gitSourceProviders = map[string]bool{"CodeStarSourceConnection": true, "CodeCommit": true, "GitHub": true}

// WebhookARN returns the ARN of the named webhook.
func (s *Service) WebhookARN(name string) string {
	return fmt.Sprintf("arn:aws:codepipeline:%s:%s:webhook:%s", s.Region, s.AccountID, name)
}

// webhookURL is where a webhook's deliveries go: PublicURL, or else the
// address the request arrived at, and /webhooks/<name>.
func (s *Service) webhookURL(ctx context.Context, name string) string {
	base := strings.TrimRight(s.PublicURL, "/")
	if base == "" {
		base = "http://127.0.0.1:7700"
		if addr, ok := ctx.Value(http.LocalAddrContextKey).(net.Addr); ok && addr != nil {
			if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
				base = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
			} else {
				base = "http://" + addr.String()
			}
		}
	}
	return base + "/webhooks/" + url.PathEscape(name)
}

func webhookNotFound(name string) *awsproto.Error {
	return awsproto.Errorf(cpapi.WebhookNotFoundException, "webhook %q does not exist; ListWebhooks shows the webhooks there are", name)
}

// PutWebhook creates a webhook or replaces the definition of the webhook
// of the same name (its URL, creation and last trigger stay).
func (s *Service) PutWebhook(ctx context.Context, in *cpapi.PutWebhookInput) (*cpapi.PutWebhookOutput, error) {
	def := *in.Webhook
	auth := cpapi.WebhookAuthConfiguration{}
	if def.AuthenticationConfiguration != nil {
		auth = *def.AuthenticationConfiguration
	}
	if def.Filters == nil {
		def.Filters = []cpapi.WebhookFilterRule{}
	}
	for i, f := range def.Filters {
		if _, err := parseJSONPath(f.JsonPath); err != nil {
			return nil, awsproto.Errorf(cpapi.InvalidWebhookFilterPatternException, "filters[%d].jsonPath %q: %v", i, f.JsonPath, err)
		}
	}
	if err := checkWebhookAuth(def.Authentication, auth); err != nil {
		return nil, err
	}
	if err := s.checkTags(in.Tags); err != nil {
		return nil, err
	}
	var row *store.Webhook
	err := s.inTx(ctx, func(q store.Queries) error {
		p, err := q.GetPipeline(ctx, def.TargetPipeline)
		if err != nil {
			return storeErr(err, pipelineNotFound(def.TargetPipeline), nil)
		}
		decl, err := decodePipeline(p)
		if err != nil {
			return err
		}
		action := sourceAction(decl, def.TargetAction)
		if action == nil {
			return awsproto.Errorf(cpapi.ValidationException, "targetAction %q is not a source action of pipeline %q; a webhook starts a pipeline from an action of its first (source) stage",
				def.TargetAction, def.TargetPipeline)
		}
		for i, f := range def.Filters {
			if _, err := expandMatch(f.MatchEquals, action.Configuration); err != nil {
				return awsproto.Errorf(cpapi.InvalidWebhookFilterPatternException, "filters[%d].matchEquals %q: %v", i, f.MatchEquals, err)
			}
		}
		old, err := q.GetWebhook(ctx, def.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			old = nil
			n, err := countWebhooks(ctx, q)
			if err != nil {
				return err
			}
			if n >= maxWebhooks {
				return awsproto.Errorf(cpapi.LimitExceededException, "the account has %d webhooks, the most it may have; delete one first", n)
			}
		case err != nil:
			return fmt.Errorf("get webhook: %w", err)
		}
		row = &store.Webhook{Name: def.Name}
		switch {
		case auth.SecretToken == secretMask && old != nil && old.SealedSecret != nil:
			row.SealedSecret = old.SealedSecret
		case auth.SecretToken == secretMask:
			return awsproto.Errorf(cpapi.InvalidWebhookAuthenticationParametersException,
				"SecretToken \"****\" is the mask shown in place of a stored token, and webhook %q has none; send the token itself", def.Name)
		case auth.SecretToken != "":
			if s.Sealer == nil {
				return errors.New("codepipeline: no Sealer configured to store a webhook secret token")
			}
			if row.SealedSecret, err = s.Sealer.Seal([]byte(auth.SecretToken)); err != nil {
				return fmt.Errorf("seal the webhook secret token: %w", err)
			}
		}
		stored := def
		stored.AuthenticationConfiguration = &cpapi.WebhookAuthConfiguration{AllowedIPRange: auth.AllowedIPRange}
		if row.Definition, err = json.Marshal(stored); err != nil {
			return err
		}
		if err := q.PutWebhook(ctx, row); err != nil {
			return fmt.Errorf("put webhook: %w", err)
		}
		if len(in.Tags) > 0 {
			return q.TagResource(ctx, s.WebhookARN(def.Name), storeTags(in.Tags))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "put webhook", "name", def.Name, "pipeline", def.TargetPipeline, "action", def.TargetAction,
		"authentication", def.Authentication, "by", awsproto.CallerFrom(ctx).ARN)
	item, err := s.webhookItem(ctx, s.Store, row)
	if err != nil {
		return nil, err
	}
	return &cpapi.PutWebhookOutput{Webhook: item}, nil
}

// countWebhooks counts the stored webhooks.
func countWebhooks(ctx context.Context, q store.Queries) (int, error) {
	ws, err := q.ListWebhooks(ctx, store.Page{Limit: maxWebhooks})
	if err != nil {
		return 0, fmt.Errorf("list webhooks: %w", err)
	}
	return len(ws), nil
}

// checkWebhookAuth checks the authentication configuration against its
// type (InvalidWebhookAuthenticationParametersException).
func checkWebhookAuth(typ string, a cpapi.WebhookAuthConfiguration) error {
	bad := func(format string, args ...any) error {
		return awsproto.Errorf(cpapi.InvalidWebhookAuthenticationParametersException, format, args...)
	}
	switch typ {
	case cpapi.WebhookAuthenticationTypeGithubHmac:
		if a.SecretToken == "" {
			return bad("authentication GITHUB_HMAC needs authenticationConfiguration.SecretToken, the secret the repository host signs deliveries with")
		}
		if a.AllowedIPRange != "" {
			return bad("authentication GITHUB_HMAC takes only SecretToken; remove AllowedIPRange")
		}
	case cpapi.WebhookAuthenticationTypeIp:
		if a.AllowedIPRange == "" {
			return bad("authentication IP needs authenticationConfiguration.AllowedIPRange, a CIDR range such as 192.0.2.0/24")
		}
		if a.SecretToken != "" {
			return bad("authentication IP takes only AllowedIPRange; remove SecretToken")
		}
		if _, err := parseIPRanges(a.AllowedIPRange); err != nil {
			return bad("AllowedIPRange %q: %v", a.AllowedIPRange, err)
		}
	case cpapi.WebhookAuthenticationTypeUnauthenticated:
		if a.SecretToken != "" || a.AllowedIPRange != "" {
			return bad("authentication UNAUTHENTICATED takes no SecretToken or AllowedIPRange; send an empty authenticationConfiguration")
		}
	}
	return nil
}

// parseIPRanges reads comma-separated CIDR ranges or single addresses.
func parseIPRanges(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR range (such as 192.0.2.0/24) or an IP address", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// sourceAction returns the action of the pipeline's first stage named
// name, or nil.
func sourceAction(d *cpapi.PipelineDeclaration, name string) *cpapi.ActionDeclaration {
	if len(d.Stages) == 0 {
		return nil
	}
	for i := range d.Stages[0].Actions {
		if a := &d.Stages[0].Actions[i]; a.Name == name && a.ActionTypeId != nil && a.ActionTypeId.Category == cpapi.ActionCategorySource {
			return a
		}
	}
	return nil
}

// webhookItem is a stored webhook as the API shows it, its token masked.
func (s *Service) webhookItem(ctx context.Context, q store.Queries, w *store.Webhook) (*cpapi.ListWebhookItem, error) {
	var def cpapi.WebhookDefinition
	if err := json.Unmarshal(w.Definition, &def); err != nil {
		return nil, fmt.Errorf("decode webhook %q: %w", w.Name, err)
	}
	if def.AuthenticationConfiguration == nil {
		def.AuthenticationConfiguration = &cpapi.WebhookAuthConfiguration{}
	}
	if w.SealedSecret != nil {
		def.AuthenticationConfiguration.SecretToken = secretMask
	}
	arn := s.WebhookARN(w.Name)
	item := &cpapi.ListWebhookItem{Definition: &def, Url: s.webhookURL(ctx, w.Name), Arn: arn}
	if !w.LastTriggered.IsZero() {
		item.LastTriggered = awsproto.NewTime(w.LastTriggered)
	}
	tags, err := q.ListTags(ctx, arn)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	if len(tags) > 0 {
		item.Tags = wireTags(tags)
	}
	return item, nil
}

// ListWebhooks lists the webhooks by name.
func (s *Service) ListWebhooks(ctx context.Context, in *cpapi.ListWebhooksInput) (*cpapi.ListWebhooksOutput, error) {
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := pageLimit(in.MaxResults, 100)
	rows, err := s.Store.ListWebhooks(ctx, store.Page{After: after, Limit: limit + 1})
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	out := &cpapi.ListWebhooksOutput{Webhooks: []cpapi.ListWebhookItem{}}
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextToken = encodeToken(rows[limit-1].Name)
	}
	for _, w := range rows {
		item, err := s.webhookItem(ctx, s.Store, w)
		if err != nil {
			return nil, err
		}
		out.Webhooks = append(out.Webhooks, *item)
	}
	return out, nil
}

// DeleteWebhook removes a webhook and its tags; deleting a webhook that
// does not exist succeeds, as the model documents.
func (s *Service) DeleteWebhook(ctx context.Context, in *cpapi.DeleteWebhookInput) (*cpapi.DeleteWebhookOutput, error) {
	err := s.inTx(ctx, func(q store.Queries) error {
		if err := q.DeleteWebhook(ctx, in.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete webhook: %w", err)
		}
		return q.DeleteTags(ctx, s.WebhookARN(in.Name))
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "deleted webhook", "name", in.Name, "by", awsproto.CallerFrom(ctx).ARN)
	return &cpapi.DeleteWebhookOutput{}, nil
}

// RegisterWebhookWithThirdParty checks that the webhook exists. Slipway
// does not configure repository hosts: add the webhook's URL and secret to
// the repository's settings yourself.
func (s *Service) RegisterWebhookWithThirdParty(ctx context.Context, in *cpapi.RegisterWebhookWithThirdPartyInput) (*cpapi.RegisterWebhookWithThirdPartyOutput, error) {
	if err := s.webhookExists(ctx, in.WebhookName); err != nil {
		return nil, err
	}
	return &cpapi.RegisterWebhookWithThirdPartyOutput{}, nil
}

// DeregisterWebhookWithThirdParty checks that the webhook exists (see
// RegisterWebhookWithThirdParty).
func (s *Service) DeregisterWebhookWithThirdParty(ctx context.Context, in *cpapi.DeregisterWebhookWithThirdPartyInput) (*cpapi.DeregisterWebhookWithThirdPartyOutput, error) {
	if err := s.webhookExists(ctx, in.WebhookName); err != nil {
		return nil, err
	}
	return &cpapi.DeregisterWebhookWithThirdPartyOutput{}, nil
}

func (s *Service) webhookExists(ctx context.Context, name string) error {
	if name == "" {
		return awsproto.Errorf(cpapi.WebhookNotFoundException, "webhookName is missing; name the webhook that PutWebhook created")
	}
	_, err := s.Store.GetWebhook(ctx, name)
	return storeErr(err, webhookNotFound(name), nil)
}

// ServeWebhook receives a webhook delivery at /webhooks/{name}.
func (s *Service) ServeWebhook(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("name")
	log := s.logger().With("webhook", name)
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	message := func(status int, format string, args ...any) {
		reply(status, map[string]string{"message": fmt.Sprintf(format, args...)})
	}
	wh, err := s.Store.GetWebhook(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		message(http.StatusNotFound, "webhook %q does not exist", name)
		return
	}
	if err != nil {
		log.Error("webhook delivery: read webhook", "err", err)
		message(http.StatusInternalServerError, "internal error")
		return
	}
	var def cpapi.WebhookDefinition
	if err := json.Unmarshal(wh.Definition, &def); err != nil {
		log.Error("webhook delivery: decode webhook", "err", err)
		message(http.StatusInternalServerError, "internal error")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		message(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", maxWebhookBody)
		return
	}
	if status, why := s.authenticateDelivery(&def, wh, r, body); status != 0 {
		log.Info("webhook delivery refused", "reason", why, "remote_addr", r.RemoteAddr)
		message(status, "%s", why)
		return
	}
	if r.Header.Get("X-GitHub-Event") == "ping" {
		reply(http.StatusOK, map[string]string{"message": "pong"})
		return
	}
	payload, err := decodePayload(r, body)
	if err != nil {
		log.Info("webhook delivery: bad payload", "err", err)
		message(http.StatusBadRequest, "the payload is not JSON: %v", err)
		return
	}
	p, err := s.Store.GetPipeline(ctx, def.TargetPipeline)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("webhook delivery: the target pipeline does not exist", "pipeline", def.TargetPipeline)
		message(http.StatusNotFound, "the webhook's pipeline %q does not exist", def.TargetPipeline)
		return
	}
	var decl *cpapi.PipelineDeclaration
	if err == nil {
		decl, err = decodePipeline(p)
	}
	if err != nil {
		log.Error("webhook delivery: read pipeline", "err", err)
		message(http.StatusInternalServerError, "internal error")
		return
	}
	action := sourceAction(decl, def.TargetAction)
	if action == nil {
		log.Warn("webhook delivery: the target action is not a source action of the pipeline", "pipeline", def.TargetPipeline, "action", def.TargetAction)
		message(http.StatusNotFound, "the webhook's action %q is not a source action of pipeline %q", def.TargetAction, def.TargetPipeline)
		return
	}
	for i, f := range def.Filters {
		if ok, why := webhookFilter(f, payload, action.Configuration); !ok {
			log.Info("webhook delivery ignored", "filter", i, "reason", why)
			reply(http.StatusOK, map[string]string{"message": fmt.Sprintf("ignored: filters[%d] %s", i, why)})
			return
		}
	}
	commit, deleted := pushedCommit(r.Header, payload)
	if deleted {
		log.Info("webhook delivery ignored", "reason", "a branch or tag deletion")
		reply(http.StatusOK, map[string]string{"message": "ignored: the push deleted a branch or tag"})
		return
	}
	params := engine.StartParams{TriggerType: cpapi.TriggerTypeWebhook, TriggerDetail: s.WebhookARN(name)}
	if commit != "" && gitSourceProviders[action.ActionTypeId.Provider] {
		params.SourceRevisions = []cpapi.SourceRevisionOverride{{ActionName: action.Name,
			RevisionType: cpapi.SourceRevisionTypeCommitId, RevisionValue: commit}}
	}
	id, err := s.Engine.StartExecution(ctx, def.TargetPipeline, params)
	if err != nil {
		var ae *awsproto.Error
		if errors.As(err, &ae) {
			log.Warn("webhook delivery: start execution", "pipeline", def.TargetPipeline, "err", err)
			message(http.StatusConflict, "%s", ae.Message)
			return
		}
		log.Error("webhook delivery: start execution", "pipeline", def.TargetPipeline, "err", err)
		message(http.StatusInternalServerError, "internal error")
		return
	}
	if err := s.Store.SetWebhookTriggered(context.WithoutCancel(ctx), name, s.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Error("webhook delivery: record the trigger", "err", err)
	}
	log.Info("webhook started an execution", "pipeline", def.TargetPipeline, "execution", id, "commit", commit)
	reply(http.StatusOK, map[string]string{"pipelineExecutionId": id})
}

// authenticateDelivery checks a delivery against the webhook's
// authentication; it returns 0 or the HTTP status and reason of a refusal.
// The reason never holds a secret or a signature.
func (s *Service) authenticateDelivery(def *cpapi.WebhookDefinition, wh *store.Webhook, r *http.Request, body []byte) (int, string) {
	switch def.Authentication {
	case cpapi.WebhookAuthenticationTypeUnauthenticated:
		return 0, ""
	case cpapi.WebhookAuthenticationTypeIp:
		ranges, err := parseIPRanges(def.AuthenticationConfiguration.AllowedIPRange)
		if err != nil {
			return http.StatusForbidden, "the webhook's AllowedIPRange is not valid"
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		addr, err := netip.ParseAddr(host)
		if err != nil {
			return http.StatusForbidden, "the sender's address is unknown"
		}
		for _, p := range ranges {
			if p.Contains(addr.Unmap()) {
				return 0, ""
			}
		}
		return http.StatusForbidden, "the sender's address " + addr.String() + " is not in the webhook's AllowedIPRange"
	case cpapi.WebhookAuthenticationTypeGithubHmac:
		if wh.SealedSecret == nil || s.Sealer == nil {
			return http.StatusUnauthorized, "the webhook has no secret token to verify deliveries with"
		}
		secret, err := s.Sealer.Open(wh.SealedSecret)
		if err != nil {
			s.logger().Error("webhook delivery: open the secret token", "webhook", def.Name, "err", err)
			return http.StatusUnauthorized, "the webhook's secret token cannot be read"
		}
		return verifySignature(r.Header, body, secret)
	}
	return http.StatusUnauthorized, "unknown authentication type " + def.Authentication
}

// verifySignature checks the signature headers of GitHub, Gitea (and
// Gogs) and GitLab, in that order: the first one present decides.
func verifySignature(h http.Header, body, secret []byte) (int, string) {
	check := func(header, sig string, newHash func() hash.Hash) (int, string) {
		want, err := hex.DecodeString(sig)
		mac := hmac.New(newHash, secret)
		mac.Write(body)
		if err != nil || !hmac.Equal(mac.Sum(nil), want) {
			return http.StatusUnauthorized, "the " + header + " signature does not match the body and the webhook's secret token"
		}
		return 0, ""
	}
	if v := h.Get("X-Hub-Signature-256"); v != "" {
		sig, ok := strings.CutPrefix(v, "sha256=")
		if !ok {
			return http.StatusUnauthorized, "X-Hub-Signature-256 is not sha256=<hex>"
		}
		return check("X-Hub-Signature-256", sig, sha256.New)
	}
	if v := h.Get("X-Hub-Signature"); v != "" {
		sig, ok := strings.CutPrefix(v, "sha1=")
		if !ok {
			return http.StatusUnauthorized, "X-Hub-Signature is not sha1=<hex>"
		}
		return check("X-Hub-Signature", sig, sha1.New)
	}
	for _, header := range []string{"X-Gitea-Signature", "X-Gogs-Signature"} {
		if v := h.Get(header); v != "" {
			return check(header, v, sha256.New)
		}
	}
	if v := h.Get("X-Gitlab-Token"); v != "" {
		if subtle.ConstantTimeCompare([]byte(v), secret) != 1 {
			return http.StatusUnauthorized, "X-Gitlab-Token does not equal the webhook's secret token"
		}
		return 0, ""
	}
	return http.StatusUnauthorized, "the delivery has no signature (X-Hub-Signature-256, X-Hub-Signature, X-Gitea-Signature or X-Gitlab-Token)"
}

// decodePayload reads a delivery's JSON payload: the body, or its
// "payload" form field when GitHub sends form-encoded deliveries.
func decodePayload(r *http.Request, body []byte) (any, error) {
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		body = []byte(form.Get("payload"))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// zeroCommitRE matches the "after" of a push that deleted its ref.
var zeroCommitRE = regexp.MustCompile(`^0+$`)

// pushedCommit returns the commit a push payload names: GitLab's
// checkout_sha, else GitHub's and Gitea's after; deleted reports a push
// that deleted its branch or tag.
func pushedCommit(h http.Header, payload any) (commit string, deleted bool) {
	obj, _ := payload.(map[string]any)
	if obj == nil {
		return "", false
	}
	if h.Get("X-Gitlab-Event") != "" {
		if v, ok := obj["checkout_sha"]; ok {
			s, _ := v.(string)
			return s, s == ""
		}
	}
	s, _ := obj["after"].(string)
	if s != "" && zeroCommitRE.MatchString(s) {
		return "", true
	}
	if del, _ := obj["deleted"].(bool); del {
		return "", true
	}
	return s, false
}

// webhookFilter applies one filter rule to a payload; the reason says why
// it does not match.
func webhookFilter(f cpapi.WebhookFilterRule, payload any, config map[string]string) (bool, string) {
	path, err := parseJSONPath(f.JsonPath)
	if err != nil {
		return false, err.Error()
	}
	want, err := expandMatch(f.MatchEquals, config)
	if err != nil {
		return false, err.Error()
	}
	values := path.eval(payload)
	for _, v := range values {
		if v == nil {
			continue
		}
		if f.MatchEquals == "" || jsonText(v) == want {
			return true, ""
		}
	}
	if len(values) == 0 {
		return false, fmt.Sprintf("%s selects nothing in the payload", f.JsonPath)
	}
	return false, fmt.Sprintf("%s is %s, not %q", f.JsonPath, jsonText(values[0]), want)
}

// jsonText is a selected value as text: strings as they are, anything
// else as compact JSON.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

var placeholderRE = regexp.MustCompile(`\{([^{}]*)\}`)

// expandMatch replaces {Key} in a matchEquals value by the target action's
// configuration value of Key.
func expandMatch(match string, config map[string]string) (string, error) {
	var missing []string
	out := placeholderRE.ReplaceAllStringFunc(match, func(m string) string {
		key := m[1 : len(m)-1]
		v, ok := config[key]
		if !ok {
			missing = append(missing, key)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("the placeholder {%s} names no configuration property of the target action", missing[0])
	}
	return out, nil
}

// jsonPath is a parsed JSONPath of the supported subset: $ followed by
// .name, ['name'] or ["name"], [index] (negative from the end), .* and
// [*].
type jsonPath []pathStep

type pathStep struct {
	key      string
	index    int
	isIndex  bool
	wildcard bool
}

// parseJSONPath parses the supported subset of JSONPath and says what is
// not supported.
func parseJSONPath(p string) (jsonPath, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(p), "$")
	if !ok {
		return nil, errors.New("a JSONPath starts with $ (the payload), as in $.ref")
	}
	var out jsonPath
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, ".."):
			return nil, errors.New("deep scan (..) is not supported; spell the path out, as in $.repository.full_name")
		case strings.HasPrefix(rest, ".*"):
			out, rest = append(out, pathStep{wildcard: true}), rest[2:]
		case rest[0] == '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			name := rest[1 : end+1]
			if name == "" {
				return nil, errors.New("a '.' must be followed by a member name")
			}
			if strings.ContainsAny(name, "()?@*'\" ") {
				return nil, fmt.Errorf("member name %q: filters, functions and quoting after '.' are not supported; use ['name']", name)
			}
			out, rest = append(out, pathStep{key: name}), rest[end+1:]
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, errors.New("a '[' has no closing ']'")
			}
			inner := strings.TrimSpace(rest[1:end])
			step, err := bracketStep(inner)
			if err != nil {
				return nil, err
			}
			out, rest = append(out, step), rest[end+1:]
		default:
			return nil, fmt.Errorf("unexpected %q; after $ come .name, ['name'], [index] or [*]", rest)
		}
	}
	return out, nil
}

func bracketStep(inner string) (pathStep, error) {
	switch {
	case inner == "*":
		return pathStep{wildcard: true}, nil
	case len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0]:
		name := inner[1 : len(inner)-1]
		if name == "" || strings.ContainsAny(name, `'"\`) || strings.Contains(name, "','") {
			return pathStep{}, fmt.Errorf("[%s]: only one quoted member name without quotes or escapes inside is supported", inner)
		}
		return pathStep{key: name}, nil
	case strings.HasPrefix(inner, "?") || strings.HasPrefix(inner, "("):
		return pathStep{}, fmt.Errorf("[%s]: filter and script expressions are not supported", inner)
	case strings.ContainsAny(inner, ":,"):
		return pathStep{}, fmt.Errorf("[%s]: slices and unions are not supported; use one index or [*]", inner)
	}
	n, err := strconv.Atoi(inner)
	if err != nil {
		return pathStep{}, fmt.Errorf("[%s]: not an index, a quoted member name or *", inner)
	}
	return pathStep{index: n, isIndex: true}, nil
}

// eval returns the values the path selects in v (none when a member or
// index is missing).
func (p jsonPath) eval(v any) []any {
	cur := []any{v}
	for _, st := range p {
		var next []any
		for _, c := range cur {
			switch x := c.(type) {
			case map[string]any:
				switch {
				case st.wildcard:
					for _, k := range slices.Sorted(maps.Keys(x)) {
						next = append(next, x[k])
					}
				case !st.isIndex:
					if e, ok := x[st.key]; ok {
						next = append(next, e)
					}
				}
			case []any:
				switch {
				case st.wildcard:
					next = append(next, x...)
				case st.isIndex:
					i := st.index
					if i < 0 {
						i += len(x)
					}
					if i >= 0 && i < len(x) {
						next = append(next, x[i])
					}
				}
			}
		}
		cur = next
	}
	return cur
}
