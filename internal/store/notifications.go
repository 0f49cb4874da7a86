package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Notification is a wake-up published with [WakeQueries.Publish] and
// delivered to the subscribers of its channel ([Store.Subscribe]) on every
// Store that shares the database.
//
// Notifications are hints, never the record: delivery is at most once,
// and a subscriber must find the work itself in the database (the sweeps
// and resyncs of the engine and the deployment runner stay, so a lost
// notification costs one sweep).
type Notification struct {
	Channel string
	// Payload names what changed (a pipeline, a deployment ID, an
	// instance); empty on a resync.
	Payload string
	// Resync says that notifications may have been missed (the database
	// connection that receives them was re-established): the subscriber
	// should look at everything, as its periodic sweep does.
	Resync bool
}

// MaxNotificationPayload is the largest payload Publish accepts, in bytes
// (PostgreSQL's NOTIFY takes at most 8000 bytes with the channel and
// sender).
const MaxNotificationPayload = 4000

// WakeQueries publish notifications.
type WakeQueries interface {
	// Publish sends payload to the subscribers of channel on every Store
	// on the database, this one included. Inside InTx it is delivered
	// only if and once the transaction commits; outside, at once. channel
	// must be non-empty and one line; payload at most
	// MaxNotificationPayload bytes.
	Publish(ctx context.Context, channel, payload string) error
}

// errBadNotification reports a channel or payload Publish refuses.
var errBadNotification = errors.New("store: bad notification")

func checkNotification(channel, payload string) error {
	switch {
	case channel == "" || strings.ContainsAny(channel, "\n\x00"):
		return fmt.Errorf("%w: channel %q must be a non-empty line", errBadNotification, channel)
	case len(payload) > MaxNotificationPayload || strings.ContainsRune(payload, '\x00'):
		return fmt.Errorf("%w: payload of %d bytes on channel %q: want at most %d bytes and no NUL",
			errBadNotification, len(payload), channel, MaxNotificationPayload)
	}
	return nil
}

// hub fans notifications out to one Store's subscribers. Remote
// notifications (PostgreSQL's listener) arrive tagged with the origin of
// the Store that published them; the hub drops its own, which it has
// delivered locally already.
type hub struct {
	origin string // random, per Store

	mu   sync.Mutex
	subs map[string]map[uint64]func(Notification)
	next uint64
}

func newHub() *hub {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &hub{origin: hex.EncodeToString(b[:]), subs: map[string]map[uint64]func(Notification){}}
}

// subscribe registers fn on channel and returns its cancel function.
func (h *hub) subscribe(channel string, fn func(Notification)) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	id := h.next
	if h.subs[channel] == nil {
		h.subs[channel] = map[uint64]func(Notification){}
	}
	h.subs[channel][id] = fn
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs[channel], id)
		if len(h.subs[channel]) == 0 {
			delete(h.subs, channel)
		}
	}
}

// deliver calls the subscribers of n's channel, outside the lock.
func (h *hub) deliver(n Notification) {
	h.mu.Lock()
	fns := slices.Collect(maps.Values(h.subs[n.Channel]))
	h.mu.Unlock()
	for _, fn := range fns {
		fn(n)
	}
}

// resync tells every subscriber that notifications may have been missed.
func (h *hub) resync() {
	h.mu.Lock()
	type sub struct {
		channel string
		fn      func(Notification)
	}
	var all []sub
	for ch, fns := range h.subs {
		for _, fn := range fns {
			all = append(all, sub{ch, fn})
		}
	}
	h.mu.Unlock()
	for _, s := range all {
		s.fn(Notification{Channel: s.channel, Resync: true})
	}
}

// encode is the wire form of a notification between Stores:
// origin, channel and payload on lines of their own.
func (h *hub) encode(channel, payload string) string {
	return h.origin + "\n" + channel + "\n" + payload
}

// receive delivers a notification another Store published; it drops the
// ones this Store published and anything malformed.
func (h *hub) receive(wire string) {
	origin, rest, ok := strings.Cut(wire, "\n")
	if !ok || origin == h.origin {
		return
	}
	channel, payload, ok := strings.Cut(rest, "\n")
	if !ok || channel == "" {
		return
	}
	h.deliver(Notification{Channel: channel, Payload: payload})
}
