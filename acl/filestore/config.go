package filestore

import (
	"errors"
	"log/slog"
	"time"

	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// Config says where the store lives and how it behaves.
type Config struct {
	// Path is the bbolt file; it is created when missing.
	Path string
	// LockTimeout bounds the wait for the file lock, so a second process
	// opening the same file fails clearly instead of hanging. Default 1s.
	LockTimeout time.Duration
	// EventBuffer is each subscriber's channel capacity. Default 256.
	EventBuffer int
	// Now is the store's clock (write times, expiry). Default time.Now.
	Now func() time.Time
	// Logger defaults to discarding (the one rule: a library logs only
	// where its caller says).
	Logger *slog.Logger
}

const defaultLockTimeout = time.Second

func (c Config) withDefaults() Config {
	if c.LockTimeout == 0 {
		c.LockTimeout = defaultLockTimeout
	}
	storekit.Defaults(&c.EventBuffer, &c.Now, &c.Logger)
	return c
}

func (c Config) validate() error {
	switch {
	case c.Path == "":
		return errors.New("filestore: config: Path is empty")
	case c.LockTimeout < 0:
		return errors.New("filestore: config: LockTimeout is negative")
	case c.EventBuffer < 1:
		return errors.New("filestore: config: EventBuffer must be at least 1")
	}
	return nil
}
