package apps

import (
	"bytes"
	"testing"
)

func TestFrameTracker(t *testing.T) {
	long := append([]byte{0x82, 126, 0x01, 0x00}, bytes.Repeat([]byte{'x'}, 256)...)
	masked := []byte{0x81, 0x82, 1, 2, 3, 4, 'h', 'i'}
	stream := append(append([]byte{0x81, 5, 'h', 'e', 'l', 'l', 'o'}, long...), masked...)
	var tr frameTracker
	var boundaries []int
	for i, b := range stream {
		tr.consume([]byte{b})
		if tr.atBoundary() {
			boundaries = append(boundaries, i+1)
		}
	}
	if want := []int{7, 7 + len(long), len(stream)}; len(boundaries) != 3 || boundaries[0] != want[0] || boundaries[1] != want[1] || boundaries[2] != want[2] {
		t.Fatalf("boundaries %v, want %v", boundaries, want)
	}
	f := closeFrame(1008, "wsgate: access was revoked")
	if f[0] != 0x88 || int(f[1]) != len(f)-2 || f[2] != 0x03 || f[3] != 0xf0 || string(f[4:]) != "wsgate: access was revoked" {
		t.Fatalf("close frame % x", f)
	}
	if f := closeFrame(1008, string(bytes.Repeat([]byte{'r'}, 200))); len(f) != 4+123 {
		t.Fatalf("close frame of %d bytes, want the reason cut to 123", len(f))
	}
}
