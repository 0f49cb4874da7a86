package hostcmd

import (
	"container/list"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"
)

// DefaultSpecCacheSize is how many signed specifications a SpecCache made
// with size 0 keeps.
const DefaultSpecCacheSize = 1024

// SpecCache signs deployment specifications once per content: a
// specification whose JSON is byte-equal to one signed before gets the
// same envelope back. A deployment's specification is the same for every
// instance and lifecycle event, so a deployment costs one signature
// instead of one per event per host. The cache holds at most its size in
// envelopes, dropping the least recently used; it is in memory only, so a
// server that has not signed a specification yet just signs it again.
// It is safe for concurrent use; concurrent requests for the same content
// wait for one signature.
type SpecCache struct {
	signer *Signer
	size   int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]*list.Element
	order   *list.List // of *specEntry, most recently used first
}

type specEntry struct {
	key   [sha256.Size]byte
	ready chan struct{} // closed once env and err are set
	env   Envelope
	err   error
}

// NewSpecCache returns a cache of signatures by s holding at most size
// envelopes (DefaultSpecCacheSize when size <= 0).
func NewSpecCache(s *Signer, size int) *SpecCache {
	if size <= 0 {
		size = DefaultSpecCacheSize
	}
	return &SpecCache{signer: s, size: size, entries: map[[sha256.Size]byte]*list.Element{}, order: list.New()}
}

// Sign returns spec signed as Signer.Sign does, reusing the envelope of an
// identical specification signed before.
func (c *SpecCache) Sign(spec *Spec) (Envelope, error) {
	body, err := json.Marshal(spec)
	if err != nil {
		return Envelope{}, fmt.Errorf("hostcmd: encode deployment specification: %w", err)
	}
	key := sha256.Sum256(body)
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		c.order.MoveToFront(el)
		e := el.Value.(*specEntry)
		c.mu.Unlock()
		<-e.ready
		return e.env, e.err
	}
	e := &specEntry{key: key, ready: make(chan struct{})}
	c.entries[key] = c.order.PushFront(e)
	for c.order.Len() > c.size {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.entries, old.Value.(*specEntry).key)
	}
	c.mu.Unlock()

	e.env, e.err = signBody(body, c.signer)
	close(e.ready)
	if e.err != nil { // not cached: the next request tries again
		c.mu.Lock()
		if el, ok := c.entries[key]; ok && el.Value == e {
			c.order.Remove(el)
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	return e.env, e.err
}

// Len returns how many envelopes the cache holds.
func (c *SpecCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
