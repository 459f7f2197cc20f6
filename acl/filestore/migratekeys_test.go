package filestore_test

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
)

func userJSON(name string, fps ...string) string {
	var ks []string
	for _, fp := range fps {
		ks = append(ks, `{"fingerprint":"`+fp+`","authorized_key":"ssh-ed25519 AAAA`+fp+`","added_at":"2030-01-02T03:04:05Z"}`)
	}
	return `{"name":"` + name + `","keys":[` + strings.Join(ks, ",") + `],"created_at":"2030-01-02T03:04:05Z"}`
}

// TestOpenRepairsKeyIndex: data whose key index disagrees with the users'
// records (no write of ours makes it; a hand edit might) is repaired at
// open so that one key belongs to one user.
func TestOpenRepairsKeyIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wsgate.db")
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
		for _, kv := range [][3]string{
			{"users", "alice", userJSON("alice", "SHA256:shared", "SHA256:a")},
			{"users", "bob", userJSON("bob", "SHA256:shared")},
			{"users", "carol", userJSON("carol", "SHA256:unindexed")},
			{"users", "dave", userJSON("dave", "SHA256:both-unindexed")},
			{"users", "erin", userJSON("erin", "SHA256:both-unindexed")},
			{"keys", "SHA256:shared", "bob"}, // bob is who it logs in as today
			{"keys", "SHA256:a", "alice"},
			{"keys", "SHA256:stale", "zed"},
		} {
			if err := put(kv[0], kv[1], kv[2]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	st, err := filestore.New(filestore.Config{Path: path, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	owner := func(fp string) string {
		u, err := st.UserByKeyFingerprint(t.Context(), fp)
		if err != nil {
			return ""
		}
		return u.Name
	}
	for fp, want := range map[string]string{
		"SHA256:shared": "bob", "SHA256:a": "alice", "SHA256:unindexed": "carol",
		"SHA256:both-unindexed": "dave", "SHA256:stale": "",
	} {
		if got := owner(fp); got != want {
			t.Errorf("owner of %s = %q, want %q", fp, got, want)
		}
	}
	keysOf := func(name string) int {
		u, err := st.GetUser(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		return len(u.Keys)
	}
	if keysOf("alice") != 1 || keysOf("erin") != 0 || keysOf("bob") != 1 {
		t.Errorf("keys after repair: alice %d (want 1), bob %d (want 1), erin %d (want 0)", keysOf("alice"), keysOf("bob"), keysOf("erin"))
	}
	for _, want := range []string{"kept_by=bob removed_from=alice", "kept_by=dave removed_from=erin"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not say %q:\n%s", want, logs.String())
		}
	}
	// Repaired, the key is alice's to add again only if bob lets go.
	if err := st.AddUserKey(t.Context(), "alice", acl.PublicKey{Fingerprint: "SHA256:shared", AuthorizedKey: "x"}); !isKeyInUse(err) {
		t.Errorf("alice re-adding bob's key: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// A second open finds nothing to repair.
	logs.Reset()
	st, err = filestore.New(filestore.Config{Path: path, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if logs.Len() != 0 {
		t.Errorf("second open logged:\n%s", logs.String())
	}
}

func isKeyInUse(err error) bool { return errors.Is(err, acl.ErrKeyInUse) }
