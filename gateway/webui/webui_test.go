package webui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/gateway/webui"
)

func serve(t *testing.T, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	webui.Handler().ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServesEmbeddedFiles(t *testing.T) {
	for _, tc := range []struct {
		path, ctype, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script src="/static/app.js" defer></script>`},
		{"/static/app.js", "text/javascript; charset=utf-8", `X-Wsgate-Csrf`},
		{"/static/app.css", "text/css; charset=utf-8", `#error`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp := serve(t, http.MethodGet, tc.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if b := body(t, resp); !strings.Contains(b, tc.contains) {
				t.Errorf("body does not contain %q", tc.contains)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	}
	// Errors carry them too: a 404 page is a page.
	for _, p := range []string{"/", "/static/app.js", "/nope"} {
		resp := serve(t, http.MethodGet, p)
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", p, k, got, v)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q allows inline code", p, csp)
		}
	}
}

// The CSP forbids inline code, so the page must not carry any: a script
// or style block or an on* attribute would silently not run.
func TestPageHasNoInlineCode(t *testing.T) {
	page := body(t, serve(t, http.MethodGet, "/"))
	for _, bad := range []string{"<script>", "<style", " onclick=", " onload=", " onsubmit=", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	js := body(t, serve(t, http.MethodGet, "/static/app.js"))
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage", "document.cookie"} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %q", bad)
		}
	}
}

// A workspace's view is deep-linkable: the page is served at its path.
func TestServesWorkspaceView(t *testing.T) {
	resp := serve(t, http.MethodGet, "/workspaces/alice/alice-ws")
	if b := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, `<script src="/static/app.js" defer></script>`) {
		t.Fatalf("GET /workspaces/alice/alice-ws: %d %.200s", resp.StatusCode, b)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	for _, p := range []string{"/nope", "/static/", "/static/nope.js", "/static/../static/app.js", "/static/index.html", "/index.html", "/api/v1/workspaces",
		"/workspaces/", "/workspaces/alice", "/workspaces/alice/", "/workspaces//ws", "/workspaces/alice/ws/x"} {
		if resp := serve(t, http.MethodGet, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, resp.StatusCode)
		}
	}
	resp := serve(t, http.MethodPost, "/")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: status %d, want 405", resp.StatusCode)
	}
	if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow %q", got)
	}
	head := serve(t, http.MethodHead, "/static/app.css")
	if head.StatusCode != http.StatusOK || body(t, head) != "" {
		t.Errorf("HEAD: status %d with a body", head.StatusCode)
	}
}
