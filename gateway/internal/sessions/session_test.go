package sessions

import (
	"context"
	"testing"
	"time"
)

func TestAfterEndRunsOnceTheOwnerEnded(t *testing.T) {
	s := New(context.Background(), info("a", "alice", "ws1"), 0, time.Time{})
	var ran []string
	s.AfterEnd(func() { ran = append(ran, "first") })
	s.AfterEnd(func() { ran = append(ran, "second") })
	if len(ran) != 0 {
		t.Fatalf("ran %v before End", ran)
	}
	s.End()
	s.End() // twice: nothing runs again
	if len(ran) != 2 || ran[0] != "first" || ran[1] != "second" {
		t.Fatalf("after End ran %v, want [first second]", ran)
	}
	s.AfterEnd(func() { ran = append(ran, "late") }) // ended: at once
	if len(ran) != 3 || ran[2] != "late" {
		t.Fatalf("AfterEnd on an ended session ran %v", ran)
	}
}
