package revoke

import "fmt"

// LockMode says what happens to live sessions while the store is
// unreachable for longer than the grace.
type LockMode string

const (
	// LockBestEffort keeps live sessions; they are re-checked once the
	// store answers again.
	LockBestEffort LockMode = "best_effort"
	// LockStrict drops every live session once the grace has passed
	// without store contact: nobody keeps access that cannot be checked.
	LockStrict LockMode = "strict"
)

// ParseLockMode parses "best_effort" or "strict".
func ParseLockMode(s string) (LockMode, error) {
	switch m := LockMode(s); m {
	case LockBestEffort, LockStrict:
		return m, nil
	}
	return "", fmt.Errorf("invalid lock mode %q: expected best_effort or strict", s)
}
