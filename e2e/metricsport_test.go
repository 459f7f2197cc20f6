package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestMetricsOffThePublicPort: `wsgate server` serves /metrics on
// --metrics-addr only; the public HTTP port answers 404.
func TestMetricsOffThePublicPort(t *testing.T) {
	d := startServer(t, t.TempDir())
	resp, err := http.Get(d.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("/metrics answered on the public HTTP port")
	}
	if m := d.metrics(t); !strings.Contains(m, "wsgate_sessions_active") {
		t.Fatalf("metrics port:\n%s", m)
	}
}
