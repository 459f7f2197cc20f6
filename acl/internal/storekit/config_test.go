package storekit_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl/internal/storekit"
)

func TestDefaultsFillOnlyZeroFields(t *testing.T) {
	var (
		buf    int
		clock  func() time.Time
		logger *slog.Logger
	)
	storekit.Defaults(&buf, &clock, &logger)
	if buf != storekit.DefaultEventBuffer || clock == nil || logger == nil || logger.Handler() != slog.DiscardHandler {
		t.Fatalf("zero fields: buffer %d, clock set %v, logger %v (want one that discards)", buf, clock != nil, logger)
	}

	mine := slog.New(slog.NewTextHandler(io.Discard, nil))
	buf, clock, logger = 3, now, mine
	storekit.Defaults(&buf, &clock, &logger)
	if buf != 3 || !clock().Equal(now()) || logger != mine {
		t.Fatalf("set fields changed: buffer %d, clock %v, logger kept %v", buf, clock(), logger == mine)
	}
	// A negative buffer is the backend's to reject, not to replace.
	buf = -1
	storekit.Defaults(&buf, &clock, &logger)
	if buf != -1 {
		t.Fatalf("negative buffer became %d", buf)
	}
}
