package apps

import (
	"net/http/httptest"
	"testing"
)

func TestFetchVerdict(t *testing.T) {
	const own = "https://80--ws--alice.apps.test"
	const sibling = "https://81--evil--mallory.apps.test"
	const allowedOrigin = "https://tools.example.com"
	type hdr = map[string]string
	nav := hdr{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
	ws := func(site, origin string) hdr {
		return hdr{"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "websocket", "Origin": origin, "Connection": "Upgrade", "Upgrade": "websocket"}
	}
	for _, c := range []struct {
		name   string
		method string
		h      hdr
		want   bool
	}{
		{"GET same-origin", "GET", hdr{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}, true},
		{"GET typed (none)", "GET", hdr{"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, true},
		{"HEAD same-origin", "HEAD", hdr{"Sec-Fetch-Site": "same-origin"}, true},
		{"top-level navigation from a sibling", "GET", nav, true},
		{"top-level navigation cross-site", "GET", hdr{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, true},
		{"iframe from a sibling", "GET", hdr{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}, false},
		{"fetch from a sibling", "GET", hdr{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "empty"}, false},
		{"script from a sibling", "GET", hdr{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"}, false},
		{"GET cors from an allowed origin", "GET", hdr{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors", "Origin": allowedOrigin}, true},
		{"neither header", "GET", hdr{}, false},
		{"neither header POST", "POST", hdr{}, false},
		{"GET with own Origin only (old browser)", "GET", hdr{"Origin": own}, true},
		{"POST same-origin", "POST", hdr{"Sec-Fetch-Site": "same-origin", "Origin": own}, true},
		{"POST own origin upper case", "POST", hdr{"Sec-Fetch-Site": "same-origin", "Origin": "HTTPS://80--WS--ALICE.APPS.TEST"}, true},
		{"POST same-origin without Origin", "POST", hdr{"Sec-Fetch-Site": "same-origin"}, false},
		{"POST from a sibling", "POST", hdr{"Sec-Fetch-Site": "same-site", "Origin": sibling}, false},
		{"POST top-level form from a sibling", "POST", hdr{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Origin": sibling}, false},
		{"POST Origin null", "POST", hdr{"Sec-Fetch-Site": "cross-site", "Origin": "null"}, false},
		{"POST from an allowed origin", "POST", hdr{"Sec-Fetch-Site": "cross-site", "Origin": allowedOrigin}, true},
		{"PUT from a sibling", "PUT", hdr{"Sec-Fetch-Site": "same-site", "Origin": sibling}, false},
		{"DELETE own", "DELETE", hdr{"Sec-Fetch-Site": "same-origin", "Origin": own}, true},
		{"WebSocket own", "GET", ws("same-origin", own), true},
		{"WebSocket from a sibling", "GET", ws("same-site", sibling), false},
		{"WebSocket without Origin", "GET", ws("same-origin", ""), false},
		{"WebSocket site none without Origin", "GET", ws("none", ""), false},
		{"WebSocket from an allowed origin", "GET", ws("cross-site", allowedOrigin), true},
	} {
		r := httptest.NewRequest(c.method, own+"/x", nil)
		for k, v := range c.h {
			r.Header.Set(k, v)
		}
		got, why := fetchVerdict(r, own, func(o string) bool { return o == allowedOrigin })
		if got != c.want {
			t.Errorf("%s: allowed=%v (%s), want %v", c.name, got, why, c.want)
		}
		if !got && why == "" {
			t.Errorf("%s: refused without a reason", c.name)
		}
	}
}
