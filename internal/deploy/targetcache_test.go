package deploy

import (
	"bytes"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/fleet"
	"github.com/slipway-cd/slipway/internal/store"
)

func targetRowOf(dep, instance string, t *Target) *store.DeploymentTarget {
	return &store.DeploymentTarget{DeploymentID: dep, Instance: instance, Status: cdapi.InstanceStatusInProgress, Detail: encode(t)}
}

func TestTargetCache(t *testing.T) {
	start := time.UnixMilli(1_700_000_000_000).UTC()
	doc := &Target{Health: fleet.Health{Instance: fleet.Healthy}, FirstDeployment: true, Events: []*Event{
		{Name: "ApplicationStop", Status: cdapi.LifecycleEventStatusSucceeded, Start: start, End: start.Add(time.Second), Log: "out"},
		{Name: "DownloadBundle", Status: cdapi.LifecycleEventStatusInProgress, Start: start, CommandID: "hc-1"},
	}}
	var c targetCache
	row := targetRowOf("d-1", "i-1", doc)

	first, err := c.decode(row)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encode(first), row.Detail) {
		t.Fatalf("decoded document %s differs from the row %s", encode(first), row.Detail)
	}
	// The caller changes its copy; the next decode of the same row must
	// not see the change.
	first.Events[1].Status = cdapi.LifecycleEventStatusSucceeded
	first.Events = append(first.Events, &Event{Name: "Install"})
	first.Health.Instance = fleet.Unhealthy
	again, err := c.decode(&store.DeploymentTarget{DeploymentID: "d-1", Instance: "i-1", Detail: bytes.Clone(row.Detail)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encode(again), row.Detail) {
		t.Fatalf("cached document changed through a caller's copy: %s", encode(again))
	}
	if again == first || again.Events[0] == first.Events[0] {
		t.Fatal("two decodes share a document")
	}

	// New JSON for the row (changed here or by another server): decoded
	// afresh, never the old document.
	changed := again.clone()
	changed.Events[1].Status, changed.Events[1].End = cdapi.LifecycleEventStatusFailed, start.Add(2*time.Second)
	row2 := targetRowOf("d-1", "i-1", changed)
	got, err := c.decode(row2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Events[1].Status != cdapi.LifecycleEventStatusFailed || !bytes.Equal(encode(got), row2.Detail) {
		t.Fatalf("after a change the cache returned %s", encode(got))
	}
	if c.len() != 1 {
		t.Fatalf("cache holds %d documents for one target", c.len())
	}

	// A document without events keeps them null (encoded the same way).
	empty := targetRowOf("d-2", "i-1", &Target{})
	for range 2 {
		e, err := c.decode(empty)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(encode(e), empty.Detail) {
			t.Fatalf("empty document re-encodes as %s, was %s", encode(e), empty.Detail)
		}
	}

	// Bad JSON is an error, not a cached document.
	if _, err := c.decode(&store.DeploymentTarget{DeploymentID: "d-3", Instance: "i-1", Detail: []byte("{")}); err == nil {
		t.Fatal("bad JSON decoded")
	}

	c.keepOnly(map[string]bool{"d-2": true})
	if c.len() != 1 {
		t.Fatalf("keepOnly left %d documents, want 1", c.len())
	}
	c.forget("d-2")
	if c.len() != 0 || c.bytes != 0 {
		t.Fatalf("after forget: %d documents, %d bytes", c.len(), c.bytes)
	}
}
