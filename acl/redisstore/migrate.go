package redisstore

import (
	"context"
	"fmt"

	"github.com/wsgate/wsgate/acl"
)

// migrateRounds bounds Migrate's retries: a round falls short only when
// workspaces without a UID appear while it runs (written by a replica not
// yet upgraded), so more than a few rounds mean something else is wrong.
const migrateRounds = 5

// Migrate brings data written before workspaces had UIDs up to date: every
// workspace without a UID gets a fresh one, and every UID is indexed, in
// one script, so atomically. Then it makes the key index agree with the
// users' keys (migrate_keys.lua), logging any key it found on two users. It is idempotent and safe when several
// replicas run it at once; run it once after Ping, before serving.
func (s *Store) Migrate(ctx context.Context) error {
	for range migrateRounds {
		// Redis scripts cannot draw random numbers of their own (their
		// generator is seeded alike on every call), so the UIDs come from
		// here, one per workspace: enough unless workspaces are added.
		n, err := s.rdb.SCard(ctx, s.cfg.Prefix+"workspaces").Result()
		if err != nil {
			return fmt.Errorf("redisstore: migrate: count workspaces: %w", err)
		}
		fresh := make([]any, n)
		for i := range fresh {
			fresh[i] = acl.NewID()
		}
		res, err := s.run(ctx, "migrate", s.newOp(fresh...))
		if err != nil {
			return fmt.Errorf("redisstore: migrate: %w", err)
		}
		if len(res) != 2 {
			return errReply("migrate", res)
		}
		missing, ok := res[1].(int64)
		if !ok {
			return errReply("migrate", res)
		}
		if missing == 0 {
			return s.migrateKeys(ctx)
		}
	}
	return fmt.Errorf("redisstore: migrate: workspaces without uid kept appearing after %d rounds", migrateRounds)
}

// migrateKeys runs migrate_keys.lua and logs each key it took from a user
// because another held it.
func (s *Store) migrateKeys(ctx context.Context) error {
	res, err := s.run(ctx, "migrate_keys", s.newOp())
	if err != nil {
		return fmt.Errorf("redisstore: migrate keys: %w", err)
	}
	if len(res)%3 != 0 {
		return errReply("migrate_keys", res)
	}
	for i := 0; i < len(res); i += 3 {
		s.cfg.Logger.Warn("redisstore: a key was on two users; it stays with one and was removed from the other",
			"fingerprint", res[i], "kept_by", res[i+1], "removed_from", res[i+2])
	}
	return nil
}
