package httpapi

import (
	"fmt"
	"time"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// DefaultMaxTokenLifetime is the default of Config.MaxTokenLifetime.
const DefaultMaxTokenLifetime = 30 * 24 * time.Hour

// tokenExpiry applies the longest lifetime a user's API token may have: a
// token asked for without an expiry gets the longest one; one asked to
// live longer is refused (a caller who asked for a date should not get
// another silently).
func (a *api) tokenExpiry(asked time.Time) (time.Time, *apitypes.Validation) {
	max := a.cfg.MaxTokenLifetime
	if max < 0 {
		return asked, nil
	}
	limit := a.now().Add(max)
	switch {
	case asked.IsZero():
		return limit.UTC().Truncate(time.Second), nil
	case asked.After(limit):
		return time.Time{}, &apitypes.Validation{Field: "expires_at",
			Detail: fmt.Sprintf("tokens may live at most %s on this gateway (--max-token-lifetime): ask for an expiry before %s",
				max, limit.UTC().Format(time.RFC3339))}
	}
	return asked, nil
}
