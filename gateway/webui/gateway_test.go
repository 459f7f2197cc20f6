package webui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// The gateway serves the page at / while the API, health and metrics keep
// their own paths.
func TestGatewayMountsPage(t *testing.T) {
	g := startLiveGateway(t)
	defer http.DefaultClient.CloseIdleConnections()

	resp, body := get(t, g.url+"/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="share-open"`) {
		t.Fatalf("GET /: %d %.200s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("GET /: CSP %q", csp)
	}
	if resp, _ := get(t, g.url+"/static/app.js"); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /static/app.js: %d", resp.StatusCode)
	}
	if resp, _ := get(t, g.url+"/nope"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /nope: %d", resp.StatusCode)
	}
	resp, body = get(t, g.url+"/api/v1/nope")
	var apiErr struct{ Message string }
	if resp.StatusCode != http.StatusNotFound || json.Unmarshal([]byte(body), &apiErr) != nil || apiErr.Message == "" {
		t.Fatalf("GET /api/v1/nope is not the API's JSON 404: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, g.url+"/healthz"); resp.StatusCode != http.StatusOK || body != "ok\n" {
		t.Fatalf("GET /healthz: %d %q", resp.StatusCode, body)
	}
}
