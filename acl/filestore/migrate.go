package filestore

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// migrateUIDs brings data written before workspaces had UIDs up to date:
// every workspace without a UID gets a fresh one, and every UID is indexed.
// Open runs it in its write transaction, so it is atomic; run again, it
// finds nothing to do and writes nothing.
func migrateUIDs(tx *bolt.Tx) error {
	wsb, uids := tx.Bucket(bWorkspaces), tx.Bucket(bWorkspaceUIDs)
	type stale struct {
		id string
		r  storekit.WorkspaceRecord
	}
	var todo []stale
	// bbolt forbids writing a bucket while iterating it: collect first.
	err := wsb.ForEach(func(k, v []byte) error {
		var r storekit.WorkspaceRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode workspace %q: %w", k, err)
		}
		if r.UID == "" || string(uids.Get([]byte(r.UID))) != string(k) {
			todo = append(todo, stale{id: string(k), r: r})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate workspace uids: %w", err)
	}
	for _, s := range todo {
		if s.r.UID == "" {
			s.r.UID = freshUID(uids)
			if err := putJSON(wsb, s.id, s.r); err != nil {
				return fmt.Errorf("migrate workspace uids: %w", err)
			}
		} else if holder := uids.Get([]byte(s.r.UID)); holder != nil && holderKeeps(wsb, holder, s.r.UID) {
			// Two workspaces with one UID: no write of ours does that, and
			// guessing which keeps it could hand one's tunnel to the other.
			return fmt.Errorf("migrate workspace uids: workspaces %s and %s share uid %q", holder, s.id, s.r.UID)
		}
		if err := uids.Put([]byte(s.r.UID), []byte(s.id)); err != nil {
			return fmt.Errorf("migrate workspace uids: %w", err)
		}
	}
	return nil
}

// freshUID returns a new UID not yet in the index.
func freshUID(uids *bolt.Bucket) string {
	for {
		if uid := acl.NewID(); uids.Get([]byte(uid)) == nil {
			return uid
		}
	}
}

// holderKeeps reports whether the workspace an index entry names still
// carries uid; if not, the entry is stale and may be replaced.
func holderKeeps(wsb *bolt.Bucket, holder []byte, uid string) bool {
	var r storekit.WorkspaceRecord
	ok, err := getJSON(wsb, string(holder), &r)
	return err != nil || (ok && r.UID == uid)
}
