package agent

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLogRingKeepsNewestInOrder(t *testing.T) {
	r := newLogRing(3)
	if got := r.last(10); len(got) != 0 {
		t.Fatalf("empty ring: %q", got)
	}
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(r, "line %d\n", i)
	}
	if got, want := strings.Join(r.last(10), ","), "line 3,line 4,line 5"; got != want {
		t.Fatalf("last(10) = %q, want %q", got, want)
	}
	if got, want := strings.Join(r.last(2), ","), "line 4,line 5"; got != want {
		t.Fatalf("last(2) = %q, want %q", got, want)
	}
	if got := r.last(0); len(got) != 0 {
		t.Fatalf("last(0) = %q", got)
	}
	if got := r.last(-1); len(got) != 0 {
		t.Fatalf("last(-1) = %q", got)
	}
}

func TestLogRingCutsLongLinesOnARuneBoundary(t *testing.T) {
	r := newLogRing(2)
	long := "x" + strings.Repeat("é", logRingLineMax) // é is 2 bytes: the cut lands mid-rune
	fmt.Fprintln(r, long)
	got := r.last(1)[0]
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || len(got) > logRingLineMax+len("…") {
		t.Fatalf("cut line: valid=%v len=%d suffix=%q", utf8.ValidString(got), len(got), got[len(got)-8:])
	}
}

func TestTeeLoggerRecordsInfoAndAboveWithAttrs(t *testing.T) {
	var main bytes.Buffer
	r := newLogRing(10)
	l := r.teeLogger(slog.New(slog.NewTextHandler(&main, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l = l.With("part", "agent").WithGroup("g")
	l.Debug("quiet detail", "k", 1)
	l.Info("ssh connection open", "user", "bob")
	l.Warn("trouble")

	lines := r.last(10)
	if len(lines) != 2 {
		t.Fatalf("ring has %d lines, want 2 (debug is not kept): %q", len(lines), lines)
	}
	for _, want := range []string{"level=INFO", "msg=\"ssh connection open\"", "part=agent", "g.user=bob"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("ring line %q lacks %q", lines[0], want)
		}
	}
	if !strings.Contains(lines[1], "level=WARN") {
		t.Errorf("second ring line %q is not the warning", lines[1])
	}
	// The original handler still gets everything it is enabled for.
	if n := strings.Count(main.String(), "\n"); n != 3 {
		t.Errorf("main handler got %d lines, want 3:\n%s", n, main.String())
	}
}

// A discarding main logger (tests, quiet setups) must not stop the ring.
func TestTeeLoggerWithDiscardedMain(t *testing.T) {
	r := newLogRing(10)
	l := r.teeLogger(slog.New(slog.DiscardHandler))
	l.Info("kept")
	if got := r.last(1); len(got) != 1 || !strings.Contains(got[0], "msg=kept") {
		t.Fatalf("ring = %q", got)
	}
}
