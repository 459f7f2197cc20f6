package acl

import (
	"context"
	"time"
)

// OnceStore records single uses that every replica must agree on: a
// one-time sign-in code redeemed on one replica must be refused on all.
type OnceStore interface {
	// UseOnce records id as used until until and reports whether this was
	// its first use. Records expire at until; ids are at most
	// MaxOnceIDLen printable bytes.
	UseOnce(ctx context.Context, id string, until time.Time) (first bool, err error)
}

// MaxOnceIDLen bounds OnceStore ids.
const MaxOnceIDLen = 128
