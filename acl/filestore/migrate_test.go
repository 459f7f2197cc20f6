package filestore_test

import (
	"bytes"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
)

// Workspaces as the code before UIDs wrote them: no "uid", no index.
var legacyWorkspaces = map[string]string{
	"alice/ws":    `{"owner":"alice","name":"ws","state":"running","agent_token_hash":"agent-1","created_at":"2030-01-02T03:04:05Z","updated_at":"2030-01-02T03:04:05Z"}`,
	"alice/other": `{"owner":"alice","name":"other","state":"stopped","created_at":"2030-01-02T03:04:05Z","updated_at":"2030-01-02T03:04:05Z"}`,
}

func writeLegacy(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		put := func(bucket, key, value string) error {
			b, err := tx.CreateBucketIfNotExists([]byte(bucket))
			if err != nil {
				return err
			}
			return b.Put([]byte(key), []byte(value))
		}
		if err := put("users", "alice", `{"name":"alice","site_admin":false,"suspended":false,"created_at":"2030-01-02T03:04:05Z"}`); err != nil {
			return err
		}
		for id, raw := range legacyWorkspaces {
			if err := put("workspaces", id, raw); err != nil {
				return err
			}
		}
		return put("agent_tokens", "agent-1", "alice/ws")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawBuckets copies the workspace buckets byte for byte.
func rawBuckets(t *testing.T, path string) map[string]map[string][]byte {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]map[string][]byte{}
	err = db.View(func(tx *bolt.Tx) error {
		for _, name := range []string{"workspaces", "workspace_uids"} {
			m := map[string][]byte{}
			if err := tx.Bucket([]byte(name)).ForEach(func(k, v []byte) error {
				m[string(k)] = bytes.Clone(v)
				return nil
			}); err != nil {
				return err
			}
			out[name] = m
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenMigratesLegacyWorkspaces(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "wsgate.db")
	writeLegacy(t, path)

	st, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]string{}
	for id := range legacyWorkspaces {
		wid, err := acl.ParseWorkspaceID(id)
		if err != nil {
			t.Fatal(err)
		}
		w, err := st.GetWorkspace(ctx, wid)
		if err != nil {
			t.Fatal(err)
		}
		if err := acl.ValidateUID(w.UID); err != nil {
			t.Fatalf("%s after migration: uid %q: %v", id, w.UID, err)
		}
		for other, uid := range uids {
			if uid == w.UID {
				t.Fatalf("%s and %s share uid %q", id, other, uid)
			}
		}
		uids[id] = w.UID
		byUID, err := st.GetWorkspaceByUID(ctx, w.UID)
		if err != nil || byUID.ID() != wid {
			t.Fatalf("GetWorkspaceByUID(%q) = %v, %v; want %s", w.UID, byUID.ID(), err, id)
		}
	}
	// The rest of the record survived the rewrite.
	w, err := st.WorkspaceByAgentTokenHash(ctx, "agent-1")
	if err != nil || w.ID().String() != "alice/ws" || w.State != acl.StateRunning || w.UID != uids["alice/ws"] {
		t.Fatalf("by agent token after migration: %+v, %v", w, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Opening again migrates nothing: not a byte changes.
	before := rawBuckets(t, path)
	st, err = filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	after := rawBuckets(t, path)
	if len(before["workspace_uids"]) != len(legacyWorkspaces) {
		t.Fatalf("uid index holds %d entries, want %d", len(before["workspace_uids"]), len(legacyWorkspaces))
	}
	for bucket, m := range before {
		for k, v := range m {
			if !bytes.Equal(after[bucket][k], v) {
				t.Errorf("%s[%q] changed on second open: %s -> %s", bucket, k, v, after[bucket][k])
			}
		}
		if len(after[bucket]) != len(m) {
			t.Errorf("%s: %d keys after second open, %d before", bucket, len(after[bucket]), len(m))
		}
	}
}
