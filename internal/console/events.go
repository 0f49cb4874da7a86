package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

// eventBatch bounds the events one read of the log returns.
const eventBatch = 200

// keepAlive is how often an idle stream sends a comment line, so that
// proxies keep it open and a closed browser is noticed.
const keepAlive = 15 * time.Second

var pipelineNameRE = regexp.MustCompile(`^[A-Za-z0-9.@\-_]{1,100}$`)

// streamEvent is one event as the stream sends it: ListEvents' shape.
type streamEvent struct {
	ID                  int64           `json:"id"`
	Time                *awsproto.Time  `json:"time"`
	DetailType          string          `json:"detailType"`
	PipelineName        string          `json:"pipelineName,omitempty"`
	PipelineExecutionID string          `json:"pipelineExecutionId,omitempty"`
	Detail              json.RawMessage `json:"detail"`
}

// streamStart returns the event ID after which a stream starts: the
// Last-Event-ID a reconnecting EventSource sends, else the after
// parameter, else -1 (the end of the log).
func streamStart(lastEventID, after string) (int64, error) {
	for _, v := range []string{lastEventID, after} {
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("event ID %q must be a non-negative integer", v)
		}
		return n, nil
	}
	return -1, nil
}

// events streams the event log as server-sent events: every event after
// the client's last one, as it is committed. ?pipeline= narrows it to one
// pipeline.
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	s, err := c.sessionFrom(r)
	if err != nil {
		writeError(w, http.StatusUnauthorized, awsproto.MissingAuthenticationTokenException, "not signed in or the session has expired: sign in at /console/login")
		return
	}
	pipeline := r.URL.Query().Get("pipeline")
	if pipeline != "" && !pipelineNameRE.MatchString(pipeline) {
		writeError(w, http.StatusBadRequest, awsproto.ValidationException, "pipeline must be 1 to 100 characters of A-Z a-z 0-9 . @ - _")
		return
	}
	after, err := streamStart(r.Header.Get("Last-Event-ID"), r.URL.Query().Get("after"))
	if err != nil {
		writeError(w, http.StatusBadRequest, awsproto.ValidationException, err.Error())
		return
	}
	ctx := r.Context()
	if after < 0 {
		if after, err = c.cfg.Events.LastEventID(ctx); err != nil {
			c.cfg.Logger.ErrorContext(ctx, "console event stream", "err", err)
			writeError(w, http.StatusServiceUnavailable, awsproto.ServiceUnavailableException, "the event log cannot be read now; retry")
			return
		}
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// The first line tells the client where the stream starts and how
	// soon to reconnect.
	if _, err := fmt.Fprintf(w, "retry: 1000\nevent: hello\ndata: {\"after\":%d}\n\n", after); err != nil {
		return
	}
	_ = rc.Flush()

	ticker := time.NewTicker(c.cfg.PollInterval)
	defer ticker.Stop()
	lastWrite := time.Now()
	for {
		if c.cfg.Now().Unix() >= s.Expires {
			_, _ = fmt.Fprint(w, "event: expired\ndata: {}\n\n")
			_ = rc.Flush()
			return
		}
		es, err := c.cfg.Events.ListEvents(ctx, after, pipeline, eventBatch)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.cfg.Logger.WarnContext(ctx, "console event stream: read events", "err", err)
		}
		for _, e := range es {
			detail := json.RawMessage(e.Detail)
			if !json.Valid(detail) {
				detail = json.RawMessage(`{}`)
			}
			buf, err := json.Marshal(streamEvent{ID: e.ID, Time: awsproto.NewTime(e.Time), DetailType: e.Type,
				PipelineName: e.Pipeline, PipelineExecutionID: e.ExecutionID, Detail: detail})
			if err != nil {
				c.cfg.Logger.ErrorContext(ctx, "console event stream: encode", "err", err)
				return
			}
			if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", e.ID, buf); err != nil {
				return
			}
			after = e.ID
		}
		if len(es) > 0 {
			if err := rc.Flush(); err != nil {
				return
			}
			lastWrite = time.Now()
			if len(es) == eventBatch {
				continue // more may be waiting
			}
		} else if time.Since(lastWrite) >= keepAlive {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			lastWrite = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-ticker.C:
		}
	}
}
