package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/store"
)

// maxAgentNames bounds the instances of one GET /console/agents.
const maxAgentNames = 100

// validInstanceName follows CodeDeploy's on-premises instance names: 1 to
// 100 characters, no ":" and no control characters.
func validInstanceName(n string) bool {
	return n != "" && utf8.RuneCountInString(n) <= 100 && !strings.ContainsFunc(n, func(r rune) bool { return r == ':' || r < 0x20 || r == 0x7f })
}

// agentsResponse maps instance names to the epoch seconds of their
// agents' last poll; null for an agent that never polled.
type agentsResponse struct {
	LastSeen map[string]*awsproto.Time `json:"lastSeen"`
}

// agents answers GET /console/agents?instance=a&instance=b: when each
// instance's agent last polled. No AWS operation has this, so the console
// reads it from the store.
func (c *Console) agents(w http.ResponseWriter, r *http.Request) {
	if _, err := c.sessionFrom(r); err != nil {
		writeError(w, http.StatusUnauthorized, awsproto.MissingAuthenticationTokenException, "not signed in or the session has expired: sign in at /console/login")
		return
	}
	names := r.URL.Query()["instance"]
	if len(names) > maxAgentNames {
		writeError(w, http.StatusBadRequest, awsproto.ValidationException, "at most 100 instance parameters are allowed")
		return
	}
	out := agentsResponse{LastSeen: map[string]*awsproto.Time{}}
	for _, n := range names {
		if !validInstanceName(n) {
			writeError(w, http.StatusBadRequest, awsproto.ValidationException, fmt.Sprintf("instance %q is not an instance name: 1 to 100 characters without \":\" or control characters", n))
			return
		}
		out.LastSeen[n] = nil
		if c.cfg.Agents == nil {
			continue
		}
		at, err := c.cfg.Agents.AgentSeen(r.Context(), n)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			c.cfg.Logger.ErrorContext(r.Context(), "console: agent last seen", "instance", n, "err", err)
			writeError(w, http.StatusServiceUnavailable, awsproto.ServiceUnavailableException, "the agents' last polls cannot be read now; retry")
			return
		default:
			out.LastSeen[n] = awsproto.NewTime(at)
		}
	}
	writeJSON(w, out)
}
