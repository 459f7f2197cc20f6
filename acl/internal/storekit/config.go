package storekit

import (
	"log/slog"
	"time"
)

// DefaultEventBuffer is each subscriber's channel capacity when a backend's
// Config leaves EventBuffer at 0.
const DefaultEventBuffer = 256

// Defaults fills the Config fields every backend has, where they are zero:
// the subscriber buffer, the clock and the logger. Each backend's Config
// keeps its own fields and documents these defaults.
func Defaults(eventBuffer *int, now *func() time.Time, logger **slog.Logger) {
	if *eventBuffer == 0 {
		*eventBuffer = DefaultEventBuffer
	}
	if *now == nil {
		*now = time.Now
	}
	if *logger == nil {
		*logger = slog.New(slog.DiscardHandler)
	}
}
