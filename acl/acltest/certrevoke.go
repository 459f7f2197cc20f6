package acltest

import (
	"math"
	"time"

	"github.com/wsgate/wsgate/acl"
)

func certRevocationCases() []testCase {
	const fp = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
	return []testCase{
		{"certs/revoke_list_lookup", func(e *env) {
			ok, err := e.st.CertRevoked(e.ctx, 7, fp)
			e.must(err)
			wantEqual(e.t, "revoked before any revocation", ok, false)
			w := e.watch()
			first := e.clock.Now()
			// All 64 bits of a serial survive the store and the event.
			e.must(e.st.RevokeCert(acl.WithActor(e.ctx, "root"), acl.RevokedCert{Serial: math.MaxUint64, Comment: "lost laptop"}))
			w.expect(acl.Event{Kind: acl.EventCertRevoked, CertSerial: math.MaxUint64, Actor: "root"})
			e.clock.Advance(time.Second)
			e.must(e.st.RevokeCert(e.ctx, acl.RevokedCert{Fingerprint: fp}))
			w.expect(acl.Event{Kind: acl.EventCertRevoked, Fingerprint: fp})

			for _, c := range []struct {
				serial uint64
				fp     string
				want   bool
			}{
				{math.MaxUint64, "", true}, {0, fp, true}, {7, fp, true}, {math.MaxUint64, "SHA256:other", true},
				{7, "", false}, {0, "SHA256:other", false}, {0, "", false},
			} {
				got, err := e.st.CertRevoked(e.ctx, c.serial, c.fp)
				e.must(err)
				if got != c.want {
					e.t.Fatalf("CertRevoked(%d, %q) = %v, want %v", c.serial, c.fp, got, c.want)
				}
			}
			list, err := e.st.ListRevokedCerts(e.ctx)
			e.must(err)
			if len(list) != 2 {
				e.t.Fatalf("list %+v, want 2 entries", list)
			}
			a, b := list[0], list[1]
			if a.Serial != math.MaxUint64 || a.Comment != "lost laptop" || a.RevokedBy != "root" || !a.RevokedAt.Equal(first) {
				e.t.Fatalf("first entry %+v", a)
			}
			if b.Fingerprint != fp || b.Serial != 0 || b.RevokedBy != "" || !b.RevokedAt.Equal(e.clock.Now()) {
				e.t.Fatalf("second entry %+v", b)
			}
			// Durable.
			e.st = e.h.Reopen(e.t, e.st, e.clock.Now)
			got, err := e.st.CertRevoked(e.ctx, math.MaxUint64, "")
			e.must(err)
			wantEqual(e.t, "revoked after reopen", got, true)
		}},
		{"certs/revoke_rejects", func(e *env) {
			e.must(e.st.RevokeCert(e.ctx, acl.RevokedCert{Serial: 42}))
			w := e.watch()
			wantConflict(e.t, e.st.RevokeCert(e.ctx, acl.RevokedCert{Serial: 42}), "revocation")
			wantInvalid(e.t, e.st.RevokeCert(e.ctx, acl.RevokedCert{}), "serial 0")
			wantInvalid(e.t, e.st.RevokeCert(e.ctx, acl.RevokedCert{Serial: 1, Fingerprint: fp}), "not both")
			wantInvalid(e.t, e.st.RevokeCert(e.ctx, acl.RevokedCert{Fingerprint: "MD5:aa"}), "SHA256")
			w.quiet()
			list, err := e.st.ListRevokedCerts(e.ctx)
			e.must(err)
			wantEqual(e.t, "entries", len(list), 1)
		}},
	}
}
