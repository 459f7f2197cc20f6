package apps

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestCutBodyNeverEndsCleanlyAfterADrop: an app that finishes its answer
// while its session is being dropped must not make the response look
// complete; before the drop the body reads as it is.
func TestCutBodyNeverEndsCleanlyAfterADrop(t *testing.T) {
	dropped := errors.New("access to alice/ws was revoked")
	ctx, cancel := context.WithCancelCause(context.Background())
	b := &cutBody{ReadCloser: io.NopCloser(strings.NewReader("partial")), ctx: ctx}
	buf := make([]byte, 3)
	if n, err := b.Read(buf); err != nil || string(buf[:n]) != "par" {
		t.Fatalf("before the drop: %q %v", buf[:n], err)
	}
	cancel(dropped)
	if _, err := io.ReadAll(b); !errors.Is(err, dropped) {
		t.Fatalf("after the drop: %v, want the drop's cause", err)
	}

	// Without a drop, EOF is EOF.
	ok := &cutBody{ReadCloser: io.NopCloser(strings.NewReader("whole")), ctx: context.Background()}
	if got, err := io.ReadAll(ok); err != nil || string(got) != "whole" {
		t.Fatalf("no drop: %q %v", got, err)
	}
}
