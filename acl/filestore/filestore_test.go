package filestore_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/acltest"
	"github.com/wsgate/wsgate/acl/filestore"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const eventBuffer = 16

func TestConformance(t *testing.T) {
	acltest.RunAt(t, eventBuffer,
		func(t *testing.T) string { return filepath.Join(t.TempDir(), "wsgate.db") },
		func(t *testing.T, path string, now func() time.Time) acl.Store {
			st, err := filestore.New(filestore.Config{Path: path, Now: now, EventBuffer: eventBuffer})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		})
}

func TestSecondOpenerFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wsgate.db")
	st, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	_, err = filestore.New(filestore.Config{Path: path, LockTimeout: 100 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second open: %v, want a lock error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second open took %v", d)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []filestore.Config{
		{},
		{Path: "x", LockTimeout: -1},
		{Path: "x", EventBuffer: -1},
	} {
		if _, err := filestore.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}
