package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgate/wsgate/acl"
)

// Store is an acl.Store on Redis.
type Store struct {
	cfg     Config
	rdb     redis.UniversalClient
	ownsRDB bool

	done      chan struct{} // closed once by Close
	closeOnce sync.Once
	wg        sync.WaitGroup // subscription goroutines
}

var _ acl.Store = (*Store)(nil)

// New returns a store on the Redis that cfg names. It does not dial; call
// Ping to check the connection.
func New(cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, rdb: cfg.Client, done: make(chan struct{})}
	if s.rdb == nil {
		opts, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("redisstore: parse URL: %w", err)
		}
		s.rdb, s.ownsRDB = redis.NewClient(opts), true
	}
	return s, nil
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// Close ends every subscription and, when the store made the client from a
// URL, closes the client.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		s.wg.Wait()
		if s.ownsRDB {
			if cerr := s.rdb.Close(); cerr != nil {
				err = fmt.Errorf("redisstore: close: %w", cerr)
			}
		}
	})
	return err
}

// op is one call of a script.
type op struct {
	now  time.Time
	args []any
}

func (s *Store) newOp(args ...any) *op {
	return &op{now: s.cfg.Now().UTC(), args: args}
}

// run calls a script for op and turns its status reply into a result or a
// typed error.
func (s *Store) run(ctx context.Context, name string, o *op) ([]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	argv := make([]any, 0, 4+len(o.args))
	argv = append(argv, s.cfg.Prefix, o.now.Format(time.RFC3339Nano), nsKey(o.now), acl.ActorFrom(ctx))
	argv = append(argv, o.args...)
	res, err := script(name).Run(ctx, s.rdb, nil, argv...).Slice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s: %w", name, err)
	}
	status, _ := res[0].(string)
	str := func(i int) string {
		if i < len(res) {
			v, _ := res[i].(string)
			return v
		}
		return ""
	}
	switch status {
	case "ok":
		return res[1:], nil
	case "notfound":
		return nil, acl.NotFound(str(1), str(2))
	case "conflict":
		return nil, &acl.ConflictError{Kind: str(1), Name: str(2), Detail: str(3)}
	case "keyinuse":
		return nil, acl.KeyInUse(str(1))
	case "invalid":
		return nil, &acl.InvalidError{Field: str(1), Detail: str(2)}
	}
	return nil, fmt.Errorf("redisstore: %s: unexpected reply %v", name, res)
}

// write runs a script that returns nothing on success.
func (s *Store) write(ctx context.Context, name string, args ...any) error {
	_, err := s.run(ctx, name, s.newOp(args...))
	return err
}

// nsKey is t as 19-digit Unix nanoseconds, so that text order is time
// order (for every t between 1970 and 2262, which validation enforces).
func nsKey(t time.Time) string {
	return fmt.Sprintf("%019d", t.UnixNano())
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own record types are encoded; they always encode.
		panic(fmt.Sprintf("redisstore: encode %T: %v", v, err))
	}
	return string(b)
}

// strs converts a script's nested reply to strings.
func strs(v any) []string {
	items, _ := v.([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func decode(raw string, v any) error {
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return fmt.Errorf("redisstore: decode %T: %w", v, err)
	}
	return nil
}

// getJSON reads one JSON key; ok is false when it does not exist.
func (s *Store) getJSON(ctx context.Context, key string, v any) (bool, error) {
	raw, err := s.rdb.Get(ctx, s.cfg.Prefix+key).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("redisstore: get %s: %w", key, err)
	}
	return true, decode(raw, v)
}

func compareStrings(a, b string) int { return cmp.Compare(a, b) }

func errReply(what string, res []any) error {
	return fmt.Errorf("redisstore: malformed %s reply %v", what, res)
}
