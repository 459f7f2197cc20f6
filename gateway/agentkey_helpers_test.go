package gateway

import (
	"path/filepath"
	"testing"

	"github.com/wsgate/wsgate/agent/agentkey"
)

// agentIdentity is a fresh agent identity that enrols with token.
func agentIdentity(t testing.TB, token string) *agentkey.Store {
	t.Helper()
	ks, err := agentkey.Open(filepath.Join(t.TempDir(), agentkey.FileName("")), token)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}
