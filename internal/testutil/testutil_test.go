package testutil

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitForPolls(t *testing.T) {
	var n atomic.Int32
	WaitFor(t, time.Second, "three polls", func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 {
		t.Fatalf("cond called %d times, want 3", n.Load())
	}
}

// fakeTB records a failure instead of stopping the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = format
	panic(f)
}

func TestWaitForTimesOut(t *testing.T) {
	f := &fakeTB{}
	func() {
		defer func() {
			if r := recover(); r != f {
				t.Fatalf("recovered %v", r)
			}
		}()
		WaitFor(f, 20*time.Millisecond, "never", func() bool { return false })
	}()
	if f.failed == "" {
		t.Fatal("no failure after the timeout")
	}
}
