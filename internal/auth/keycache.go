package auth

import (
	"sync"
	"time"
)

// DefaultKeyCacheTTL is how long a looked-up key is used from memory
// before the store is read again: a key deleted or changed in the store
// (by this server or another) is refused or updated within this time.
const DefaultKeyCacheTTL = 30 * time.Second

// DefaultKeyCacheSize bounds how many keys a cache holds.
const DefaultKeyCacheSize = 4096

// keyCache keeps looked-up keys in memory for a short time, so that
// verifying a request does not read the store and open the sealed secret
// every time. Only keys found are kept. It is safe for concurrent use.
type keyCache[V any] struct {
	mu      sync.Mutex
	entries map[string]cachedKey[V]
}

type cachedKey[V any] struct {
	v       V
	expires time.Time
}

// get returns the value stored for id if it has not expired at now.
func (c *keyCache[V]) get(id string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put stores v for id until now+ttl. When the cache holds size entries it
// first drops the expired ones and, if none expired, empties itself: a
// full cache only costs store reads.
func (c *keyCache[V]) put(id string, v V, now time.Time, ttl time.Duration, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]cachedKey[V]{}
	}
	if _, ok := c.entries[id]; !ok && len(c.entries) >= size {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= size {
			clear(c.entries)
		}
	}
	c.entries[id] = cachedKey[V]{v: v, expires: now.Add(ttl)}
}

// forget drops id.
func (c *keyCache[V]) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}

// len returns how many entries the cache holds, expired or not.
func (c *keyCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// cachePolicy is the TTL and size of a key cache: ttl < 0 disables it,
// zero values take the defaults.
func cachePolicy(ttl time.Duration, size int) (time.Duration, int) {
	if ttl == 0 {
		ttl = DefaultKeyCacheTTL
	}
	if size <= 0 {
		size = DefaultKeyCacheSize
	}
	return ttl, size
}
