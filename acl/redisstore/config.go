package redisstore

import (
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// Config says which Redis to use and how.
type Config struct {
	// Client is used as it is and not closed by Close. Set Client or URL.
	Client redis.UniversalClient
	// URL ("redis://[user:pass@]host:port/db", or rediss://) makes a client
	// that the store owns and closes.
	URL string
	// Prefix starts every key and the events channel. Default "wsgate:".
	Prefix string
	// EventBuffer is each subscriber's channel capacity. Default 256.
	EventBuffer int
	// HealthCheckInterval is how long a quiet subscription waits before it
	// PINGs; a PING unanswered for another interval counts as a dropped
	// connection. Default 10s.
	HealthCheckInterval time.Duration
	// Now is the store's clock (write times, expiry). Default time.Now.
	Now func() time.Time
	// Logger defaults to discarding (the one rule: a library logs only
	// where its caller says).
	Logger *slog.Logger
}

// DefaultPrefix starts every key when Config.Prefix is empty.
const DefaultPrefix = "wsgate:"

const defaultHealthCheckInterval = 10 * time.Second

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.HealthCheckInterval == 0 {
		c.HealthCheckInterval = defaultHealthCheckInterval
	}
	storekit.Defaults(&c.EventBuffer, &c.Now, &c.Logger)
	return c
}

func (c Config) validate() error {
	switch {
	case c.Client == nil && c.URL == "":
		return errors.New("redisstore: config: set Client or URL")
	case c.Client != nil && c.URL != "":
		return errors.New("redisstore: config: set Client or URL, not both")
	case c.EventBuffer < 1:
		return errors.New("redisstore: config: EventBuffer must be at least 1")
	case c.HealthCheckInterval < 0:
		return errors.New("redisstore: config: HealthCheckInterval is negative")
	}
	return nil
}
