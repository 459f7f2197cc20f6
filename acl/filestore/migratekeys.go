package filestore

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
)

// migrateKeys makes the fingerprint index (bucket keys) agree with the
// users' records, so that one key belongs to one user. Every write has kept
// them together since the first release, so on such data it writes
// nothing; it repairs data written by hand or by older tools.
//
// A key missing from the index is indexed to its user. A key on several
// users stays with the one the index names if that user holds it (the one
// it authenticates as today), else with the first user by name; it is
// removed from the others' records and each removal is logged with both
// names, so that an operator can settle it. Index entries naming a user
// who lacks the key are dropped. Open runs it in its write transaction.
func migrateKeys(tx *bolt.Tx, log *slog.Logger) error {
	users, keys := tx.Bucket(bUsers), tx.Bucket(bKeys)
	holds := map[string][]string{} // fingerprint → users, by name
	records := map[string]acl.User{}
	err := users.ForEach(func(k, v []byte) error {
		var u acl.User
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("decode user %q: %w", k, err)
		}
		records[u.Name] = u
		for _, key := range u.Keys {
			holds[key.Fingerprint] = append(holds[key.Fingerprint], u.Name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate key index: %w", err)
	}
	changed := map[string]bool{}
	for fp, names := range holds {
		keeper := names[0]
		if cur := string(keys.Get([]byte(fp))); slices.Contains(names, cur) {
			keeper = cur
		}
		if string(keys.Get([]byte(fp))) != keeper {
			if err := keys.Put([]byte(fp), []byte(keeper)); err != nil {
				return fmt.Errorf("migrate key index: %w", err)
			}
		}
		for _, n := range names {
			if n == keeper {
				continue
			}
			u := records[n]
			u.Keys = slices.DeleteFunc(u.Keys, func(k acl.PublicKey) bool { return k.Fingerprint == fp })
			records[n], changed[n] = u, true
			log.Warn("filestore: a key was on two users; it stays with one and was removed from the other",
				"fingerprint", fp, "kept_by", keeper, "removed_from", n)
		}
	}
	for n := range changed {
		if err := putJSON(users, n, records[n]); err != nil {
			return fmt.Errorf("migrate key index: %w", err)
		}
	}
	var stale [][]byte
	err = keys.ForEach(func(fp, name []byte) error {
		if !slices.Contains(holds[string(fp)], string(name)) {
			stale = append(stale, slices.Clone(fp))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate key index: %w", err)
	}
	for _, fp := range stale {
		if err := keys.Delete(fp); err != nil {
			return fmt.Errorf("migrate key index: %w", err)
		}
	}
	return nil
}
