package acltest

import (
	"strings"
	"sync"
	"time"
)

func onceCases() []testCase {
	return []testCase{
		{"once/first_use_only", func(e *env) {
			until := e.clock.Now().Add(time.Minute)
			first, err := e.st.UseOnce(e.ctx, "code:a", until)
			e.must(err)
			wantEqual(e.t, "first use", first, true)
			again, err := e.st.UseOnce(e.ctx, "code:a", until)
			e.must(err)
			wantEqual(e.t, "second use", again, false)
			other, err := e.st.UseOnce(e.ctx, "code:b", until)
			e.must(err)
			wantEqual(e.t, "another id", other, true)
		}},
		{"once/expired_record_is_gone", func(e *env) {
			past := e.clock.Now().Add(-time.Second)
			_, err := e.st.UseOnce(e.ctx, "code:old", past)
			e.must(err)
			// Its record expired: the id is new again (a code that old
			// fails its own expiry check before it gets here).
			first, err := e.st.UseOnce(e.ctx, "code:old", e.clock.Now().Add(time.Minute))
			e.must(err)
			wantEqual(e.t, "use after expiry", first, true)
		}},
		{"once/bad_ids_refused", func(e *env) {
			for _, id := range []string{"", "has space", strings.Repeat("x", 129), "ctl\x01"} {
				_, err := e.st.UseOnce(e.ctx, id, e.clock.Now().Add(time.Minute))
				wantInvalid(e.t, err, "once id")
			}
		}},
		{"once/racing_replicas_agree", func(e *env) {
			const n = 8
			firsts := make([]bool, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { firsts[i], errs[i] = e.st.UseOnce(e.ctx, "code:race", e.clock.Now().Add(time.Minute)) })
			}
			wg.Wait()
			won := 0
			for i := range n {
				e.must(errs[i])
				if firsts[i] {
					won++
				}
			}
			wantEqual(e.t, "first uses among racers", won, 1)
		}},
	}
}
