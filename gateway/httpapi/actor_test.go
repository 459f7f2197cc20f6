package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// TestWritesNameTheCaller: the events of writes made for an API request
// carry the caller as Actor, so gateways can say who stopped a workspace.
func TestWritesNameTheCaller(t *testing.T) {
	e := basicEnv(t)
	events, err := e.store.Subscribe(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	e.expect(http.StatusOK, "alice", "POST", "/api/v1/workspaces/alice/ws/start", nil)
	e.expect(http.StatusOK, "root", "POST", "/api/v1/workspaces/alice/ws/stop", nil)
	select {
	case ev := <-events:
		if ev.Kind != acl.EventWorkspaceStopped || ev.Actor != "root" {
			t.Fatalf("event %+v, want workspace_stopped by root", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
}
