package chanwire

import (
	"bytes"
	"runtime"
	"testing"
)

// TestSmallFramesTakeSmallBuffers: an EOF or a request is written from a
// small buffer, not a 64 KiB one, even when the pools were just emptied by
// a collection (the teardown of 500 sessions writes 500 such frames).
func TestSmallFramesTakeSmallBuffers(t *testing.T) {
	var out bytes.Buffer
	out.Grow(1 << 10)
	fw := &frameWriter{w: &out}
	var before, after runtime.MemStats
	// TotalAlloc counts every goroutine's allocations (an earlier test's
	// teardown may still run), so the least of five tries is the frame's.
	least := uint64(1 << 62)
	for range 5 {
		out.Reset()
		runtime.GC()
		runtime.GC() // a pool's victims go at the second
		runtime.ReadMemStats(&before)
		if err := fw.write(frameEOF); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	if least > 4<<10 {
		t.Fatalf("an EOF frame allocated %d bytes", least)
	}
	if got := out.Bytes(); len(got) != headerLen || frameType(got[0]) != frameEOF {
		t.Fatalf("wrote %x", got)
	}
}
