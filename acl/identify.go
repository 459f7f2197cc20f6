package acl

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TokenReader is the part of Store that identifies API tokens.
type TokenReader interface {
	TokenByHash(ctx context.Context, hash string) (Token, error)
	GetUser(ctx context.Context, name string) (User, error)
}

// ErrBadToken: missing, unknown or expired token, deleted or suspended user —
// callers answer all alike.
var ErrBadToken = errors.New("unauthorized: missing, invalid or expired API token")

// ErrSuspended is the ErrBadToken of a valid token whose user is
// suspended. Only a holder of the secret sees it, so telling them is no
// oracle; errors.Is(err, ErrBadToken) holds for callers that answer all
// alike.
var ErrSuspended = fmt.Errorf("%w: your account is suspended; ask a site admin", ErrBadToken)

// IdentifyToken finds the user an API token secret belongs to, as of now.
// Every reason to refuse the token is ErrBadToken, so that a caller cannot
// leak which one applied; a store failure is returned wrapped instead, so
// that an outage is not mistaken for a bad token.
func IdentifyToken(ctx context.Context, st TokenReader, secret string, now time.Time) (User, Token, error) {
	if secret == "" {
		return User{}, Token{}, ErrBadToken
	}
	tok, err := st.TokenByHash(ctx, HashToken(secret))
	if errors.Is(err, ErrNotFound) {
		return User{}, Token{}, ErrBadToken
	}
	if err != nil {
		return User{}, Token{}, fmt.Errorf("look up token: %w", err)
	}
	// A token is valid before its expiry, not at it (as grants are).
	if !tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt) {
		return User{}, Token{}, ErrBadToken
	}
	u, err := st.GetUser(ctx, tok.User)
	if errors.Is(err, ErrNotFound) {
		return User{}, Token{}, ErrBadToken
	}
	if err != nil {
		return User{}, Token{}, fmt.Errorf("look up user of token: %w", err)
	}
	if u.Suspended {
		return User{}, Token{}, ErrSuspended
	}
	return u, tok, nil
}
