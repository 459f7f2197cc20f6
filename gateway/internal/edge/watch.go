package edge

import (
	"context"
	"errors"
	"time"
)

// DefaultWatchInterval is how often Watch looks at the files when given no
// interval.
const DefaultWatchInterval = time.Minute

// Watch reads both files every interval (DefaultWatchInterval when every is
// not positive) and reloads the pair when their content changed, until ctx
// ends; run it in its own goroutine. Success and failure are logged; a bad
// pair is tried once per change, so a certificate and key replaced one after
// the other load when the second lands. Comparing content rather than
// modification times also catches the symlink swaps of Kubernetes secret
// volumes and filesystems with coarse timestamps.
func (c *Certificate) Watch(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultWatchInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	lastReadErr := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := c.reloadIfChanged()
		var rerr readErr
		switch {
		case err == nil, errors.Is(err, errUnchanged):
			lastReadErr = ""
		case errors.As(err, &rerr):
			// A file missing for a while (mid-rotation) is said once.
			if err.Error() != lastReadErr {
				c.log.Warn("tls certificate reload failed; serving the previous one", "err", err)
				lastReadErr = err.Error()
			}
		default:
			lastReadErr = ""
			c.log.Error("tls certificate reload failed; serving the previous one", "err", err)
		}
	}
}

// errUnchanged says the files are what was last loaded or tried.
var errUnchanged = errors.New("unchanged")

// reloadIfChanged loads the files when their content differs from what was
// last loaded or tried; errUnchanged when it does not.
func (c *Certificate) reloadIfChanged() error {
	certPEM, keyPEM, err := c.readFiles()
	if err != nil {
		return readErr{err}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if digest(certPEM, keyPEM) == c.sum {
		return errUnchanged
	}
	return c.load(certPEM, keyPEM)
}

// readErr marks a failure to read a file, as opposed to a bad file.
type readErr struct{ error }

func (e readErr) Unwrap() error { return e.error }
