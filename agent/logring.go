package agent

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"
)

// Bounds of the log ring the agent keeps for `wsgate workspaces logs`.
const (
	logRingLines   = 1000
	logRingLineMax = 2048 // longer lines are cut: one chatty record must not crowd out the rest
)

// logRing keeps the agent's most recent log lines. It is an io.Writer for
// a slog.TextHandler, which writes each record in one Write.
type logRing struct {
	mu    sync.Mutex
	lines []string // a circular buffer of at most cap(lines) lines
	next  int      // where the next line goes once the buffer is full
}

func newLogRing(n int) *logRing { return &logRing{lines: make([]string, 0, n)} }

func (r *logRing) Write(p []byte) (int, error) {
	s := strings.TrimRight(string(p), "\n")
	if len(s) > logRingLineMax {
		cut := logRingLineMax
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lines) < cap(r.lines) {
		r.lines = append(r.lines, s)
		return len(p), nil
	}
	r.lines[r.next] = s
	r.next = (r.next + 1) % len(r.lines)
	return len(p), nil
}

// last returns up to n of the newest lines, oldest first.
func (r *logRing) last(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	n = min(max(n, 0), len(r.lines))
	out := make([]string, 0, n)
	for i := len(r.lines) - n; i < len(r.lines); i++ {
		out = append(out, r.lines[(r.next+i)%len(r.lines)])
	}
	return out
}

// teeLogger returns a logger that logs to l and also records records of
// level info and above in the ring.
func (r *logRing) teeLogger(l *slog.Logger) *slog.Logger {
	ring := slog.NewTextHandler(r, &slog.HandlerOptions{Level: slog.LevelInfo})
	return slog.New(teeHandler{a: l.Handler(), b: ring})
}

// teeHandler sends every record to two handlers, each as its level allows.
type teeHandler struct{ a, b slog.Handler }

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t teeHandler) Handle(ctx context.Context, rec slog.Record) error {
	var errA, errB error
	if t.a.Enabled(ctx, rec.Level) {
		errA = t.a.Handle(ctx, rec)
	}
	if t.b.Enabled(ctx, rec.Level) {
		// Handlers may keep what they are given; the record is shared.
		errB = t.b.Handle(ctx, rec.Clone())
	}
	if errA != nil {
		return errA
	}
	return errB
}

func (t teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return teeHandler{a: t.a.WithAttrs(attrs), b: t.b.WithAttrs(attrs)}
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{a: t.a.WithGroup(name), b: t.b.WithGroup(name)}
}
