package filestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
)

// Bucket names; see doc.go for what each holds.
var (
	bUsers         = []byte("users")
	bKeys          = []byte("keys")
	bGroups        = []byte("groups")
	bMembers       = []byte("members")
	bUserGroups    = []byte("user_groups")
	bOrgs          = []byte("orgs")
	bSettings      = []byte("settings")
	bWorkspaces    = []byte("workspaces")
	bWorkspaceUIDs = []byte("workspace_uids")
	bAgentTokens   = []byte("agent_tokens")
	bGrants        = []byte("grants")
	bSubjectGrants = []byte("subject_grants")
	bGrantExpiry   = []byte("grant_expiry")
	bTokens        = []byte("tokens")
	bUserTokens    = []byte("user_tokens")
	bSecrets       = []byte("secrets")
	bAgentKeys     = []byte("agent_keys") // workspace uid → acl.AgentKey

	allBuckets = [][]byte{bUsers, bKeys, bGroups, bMembers, bUserGroups, bOrgs, bSettings,
		bWorkspaces, bWorkspaceUIDs, bAgentTokens, bGrants, bSubjectGrants, bGrantExpiry, bTokens, bUserTokens, bSecrets, bAgentKeys}
)

// Store is an acl.Store in one bbolt file.
type Store struct {
	db   *bolt.DB
	cfg  Config
	feed *feed
}

var _ acl.Store = (*Store)(nil)

// Open opens (or creates) the store at path with default settings.
func Open(path string) (*Store, error) { return New(Config{Path: path}) }

// New opens (or creates) the store described by cfg.
func New(cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return nil, fmt.Errorf("filestore: create directory: %w", err)
	}
	db, err := bolt.Open(cfg.Path, 0o600, &bolt.Options{Timeout: cfg.LockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("filestore: open %s: file is locked by another process (is another wsgate server running?)", cfg.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: open %s: %w", cfg.Path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if err := migrateUIDs(tx); err != nil {
			return err
		}
		return migrateKeys(tx, cfg.Logger)
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("filestore: open %s: %w", cfg.Path, err)
	}
	return &Store{db: db, cfg: cfg, feed: newFeed(cfg.EventBuffer, cfg.Now, cfg.Logger)}, nil
}

// Close ends every subscription and closes the file.
func (s *Store) Close() error {
	s.feed.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("filestore: close: %w", err)
	}
	return nil
}

// Subscribe implements acl.Store.
func (s *Store) Subscribe(ctx context.Context) (<-chan acl.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch, ok := s.feed.subscribe(ctx)
	if !ok {
		return nil, errors.New("filestore: store is closed")
	}
	return ch, nil
}

// wtx is one write transaction: the bbolt tx, the write's time, who made
// it, and the events to publish once it commits.
type wtx struct {
	*bolt.Tx
	now    time.Time
	actor  string
	events []acl.Event
}

func (w *wtx) emit(ev acl.Event) {
	ev.At = w.now
	ev.Actor = w.actor
	w.events = append(w.events, ev)
}

// update runs fn in one read-write transaction and publishes its events
// after the commit.
func (s *Store) update(ctx context.Context, fn func(w *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &wtx{now: s.cfg.Now().UTC(), actor: acl.ActorFrom(ctx)}
	err := s.db.Update(func(tx *bolt.Tx) error {
		w.Tx, w.events = tx, nil
		return fn(w)
	})
	if err != nil {
		return storeErr(err)
	}
	s.feed.publish(w.events)
	return nil
}

// view runs fn in one read-only transaction.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return storeErr(s.db.View(fn))
}

// storeErr passes the acl error types through as they are and labels the
// rest as storage failures.
func storeErr(err error) error {
	if err == nil || errors.Is(err, acl.ErrNotFound) || errors.Is(err, acl.ErrConflict) || errors.Is(err, acl.ErrInvalid) {
		return err
	}
	return fmt.Errorf("filestore: %w", err)
}

func getJSON(b *bolt.Bucket, key string, v any) (bool, error) {
	raw := b.Get([]byte(key))
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("decode %q: %w", key, err)
	}
	return true, nil
}

// getExisting is getJSON for a record that must exist: a missing key is
// acl.NotFound(kind, key).
func getExisting(b *bolt.Bucket, kind, key string, v any) error {
	ok, err := getJSON(b, key, v)
	if err == nil && !ok {
		err = acl.NotFound(kind, key)
	}
	return err
}

func putJSON(b *bolt.Bucket, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return b.Put([]byte(key), raw)
}

func join(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return string(b)
}

// keysWithPrefix returns the rest of every key of b that starts with prefix.
func keysWithPrefix(b *bolt.Bucket, prefix string) []string {
	var out []string
	p := []byte(prefix)
	c := b.Cursor()
	for k, _ := c.Seek(p); k != nil && len(k) >= len(p) && string(k[:len(p)]) == prefix; k, _ = c.Next() {
		out = append(out, string(k[len(p):]))
	}
	return out
}

// deletePrefix removes every key of b that starts with prefix.
func deletePrefix(b *bolt.Bucket, prefix string) error {
	for _, rest := range keysWithPrefix(b, prefix) {
		if err := b.Delete([]byte(prefix + rest)); err != nil {
			return err
		}
	}
	return nil
}
