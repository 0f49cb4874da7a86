package deploy

import (
	"bytes"
	"sync"

	"github.com/slipway-cd/slipway/internal/store"
)

// maxCachedTargetBytes bounds the target documents a runner keeps decoded
// (their JSON size; the decoded form is of the same order).
const maxCachedTargetBytes = 64 << 20

// targetCache keeps the decoded documents of active deployments' targets,
// keyed by the exact JSON they were decoded from. A reconcile reads every
// target row of its deployment, but between two reconciles only the
// targets whose events moved have new JSON: the others are taken from
// here instead of being decoded again. A row changed anywhere (by this
// server or another) has other bytes and is decoded afresh, so the cache
// never serves a stale document. Callers get copies they may change.
type targetCache struct {
	mu    sync.Mutex
	deps  map[string]map[string]cachedTarget // deployment → instance → document
	bytes int
}

type cachedTarget struct {
	raw []byte
	doc *Target
}

// decode returns the document of row: a copy of the cached one when row's
// JSON is the one it was decoded from, otherwise a fresh decode (cached).
func (c *targetCache) decode(row *store.DeploymentTarget) (*Target, error) {
	c.mu.Lock()
	e, ok := c.deps[row.DeploymentID][row.Instance]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, row.Detail) {
		return e.doc.clone(), nil
	}
	doc, err := DecodeTarget(row)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deps == nil {
		c.deps = map[string]map[string]cachedTarget{}
	}
	m := c.deps[row.DeploymentID]
	if old, ok := m[row.Instance]; ok {
		c.bytes -= len(old.raw)
		delete(m, row.Instance)
	}
	if c.bytes+len(row.Detail) > maxCachedTargetBytes {
		return doc, nil // full: decode every time
	}
	if m == nil {
		m = map[string]cachedTarget{}
		c.deps[row.DeploymentID] = m
	}
	// row.Detail is the store's own copy, replaced (never changed in
	// place) when the document is encoded again.
	m[row.Instance] = cachedTarget{raw: row.Detail, doc: doc.clone()}
	c.bytes += len(row.Detail)
	return doc, nil
}

// forget drops the documents of a deployment.
func (c *targetCache) forget(deploymentID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.deps[deploymentID] {
		c.bytes -= len(e.raw)
	}
	delete(c.deps, deploymentID)
}

// keepOnly drops the documents of every deployment not in active.
func (c *targetCache) keepOnly(active map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, m := range c.deps {
		if active[id] {
			continue
		}
		for _, e := range m {
			c.bytes -= len(e.raw)
		}
		delete(c.deps, id)
	}
}

// len returns how many documents the cache holds.
func (c *targetCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.deps {
		n += len(m)
	}
	return n
}

// clone returns a deep copy of t.
func (t *Target) clone() *Target {
	out := &Target{Health: t.Health, FirstDeployment: t.FirstDeployment}
	if t.Events != nil {
		out.Events = make([]*Event, len(t.Events))
	}
	for i, e := range t.Events {
		ec := *e
		out.Events[i] = &ec
	}
	return out
}
