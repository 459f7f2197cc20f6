package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/devca"
)

// tlsServer is an HTTPS test server whose certificate a devca CA issued
// for hosts; it returns the server and the CA file.
func tlsServer(t *testing.T, hosts ...string) (*httptest.Server, string) {
	t.Helper()
	f, err := devca.Ensure(t.TempDir(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, f.CA
}

// get fetches url with a client built from caFile (and now, when set).
func get(t *testing.T, url, caFile string, now func() time.Time) (string, error) {
	t.Helper()
	cfg, err := ClientConfig(caFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Time = now
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

func TestTrustedWithCAFile(t *testing.T) {
	srv, ca := tlsServer(t, "127.0.0.1")
	body, err := get(t, srv.URL, ca, nil)
	if err != nil || body != "hello" {
		t.Fatalf("GET with the CA file: %q, %v", body, err)
	}
}

func TestUnknownAuthorityExplained(t *testing.T) {
	srv, _ := tlsServer(t, "127.0.0.1")
	_, err := get(t, srv.URL, "", nil)
	if err == nil {
		t.Fatal("GET without the CA file succeeded")
	}
	ex := Explain(err)
	for _, want := range []string{"certificate signed by unknown authority", "--ca-file", "SSL_CERT_FILE"} {
		if !strings.Contains(ex.Error(), want) {
			t.Errorf("explained %q does not name %q", ex, want)
		}
	}
	var ua x509.UnknownAuthorityError
	if !errors.As(ex, &ua) {
		t.Error("the explained error lost x509.UnknownAuthorityError")
	}
	if !IsConfigMismatch(err) {
		t.Error("an unknown authority is not a config mismatch")
	}
	if again := Explain(ex); again != ex {
		t.Errorf("Explain twice: %q", again)
	}
}

func TestHostnameMismatchExplained(t *testing.T) {
	srv, ca := tlsServer(t, "gw.example.test")
	_, err := get(t, srv.URL, ca, nil) // the URL says 127.0.0.1
	var he x509.HostnameError
	if !errors.As(err, &he) {
		t.Fatalf("GET to another name: %v, want a HostnameError", err)
	}
	ex := Explain(err).Error()
	if !strings.Contains(ex, "issued for gw.example.test, not 127.0.0.1") || !strings.Contains(ex, "use a URL with a name the certificate lists") {
		t.Errorf("explained %q", ex)
	}
	if !IsConfigMismatch(err) {
		t.Error("a host name mismatch is not a config mismatch")
	}
}

func TestExpiredExplained(t *testing.T) {
	srv, ca := tlsServer(t, "127.0.0.1")
	// The client's clock two years on: the one-year leaf has expired.
	_, err := get(t, srv.URL, ca, func() time.Time { return time.Now().Add(2 * 365 * 24 * time.Hour) })
	var ie x509.CertificateInvalidError
	if !errors.As(err, &ie) || ie.Reason != x509.Expired {
		t.Fatalf("GET two years on: %v, want an expired certificate", err)
	}
	if ex := Explain(err).Error(); !strings.Contains(ex, "has expired or is not valid yet") || !strings.Contains(ex, "clock") {
		t.Errorf("explained %q", ex)
	}
	if IsConfigMismatch(err) {
		t.Error("an expired certificate counts as a config mismatch; the gateway may renew it")
	}
}

func TestSchemeMismatchExplained(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(plain.Close)
	_, err := get(t, strings.Replace(plain.URL, "http://", "https://", 1), "", nil)
	if err == nil {
		t.Fatal("https to a plain port succeeded")
	}
	if ex := Explain(err).Error(); !strings.Contains(ex, "does not speak TLS") {
		t.Errorf("https to a plain port: %q", ex)
	}
	// Below net/http (the tunnel and SSH upgrades): a bare handshake.
	conn, err := tls.Dial("tcp", plain.Listener.Addr().String(), &tls.Config{ServerName: "127.0.0.1"})
	if err == nil {
		conn.Close()
		t.Fatal("TLS handshake with a plain port succeeded")
	}
	if ex := Explain(fmt.Errorf("tls handshake: %w", err)).Error(); !strings.Contains(ex, "does not speak TLS") {
		t.Errorf("handshake with a plain port: %q", ex)
	}

	srv, _ := tlsServer(t, "127.0.0.1")
	resp, err := http.Get(strings.Replace(srv.URL, "https://", "http://", 1))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !IsHTTPToTLSAnswer(resp.StatusCode, body) {
		t.Fatalf("http to a TLS port: %d %q not recognised", resp.StatusCode, body)
	}
	if IsHTTPToTLSAnswer(http.StatusBadRequest, []byte(`{"message":"bad"}`)) {
		t.Error("an ordinary 400 recognised as plain HTTP to a TLS port")
	}
	for _, err := range []error{
		fmt.Errorf("GET /api/v1/me: %w", ErrHTTPToTLS),
		fmt.Errorf("gateway answered %s: %q", resp.Status, strings.TrimSpace(string(body))), // the tunnel's form
	} {
		if ex := Explain(err).Error(); !strings.Contains(ex, "use an https:// URL") {
			t.Errorf("plain HTTP to a TLS port: %q", ex)
		}
		if !IsConfigMismatch(err) {
			t.Errorf("%v is not a config mismatch", err)
		}
	}
}

func TestExplainLeavesOtherErrors(t *testing.T) {
	if Explain(nil) != nil {
		t.Error("Explain(nil) != nil")
	}
	other := fmt.Errorf("dial: %w", fs.ErrNotExist)
	if got := Explain(other); got != other {
		t.Errorf("Explain(%v) = %v", other, got)
	}
	if IsConfigMismatch(other) || IsConfigMismatch(nil) {
		t.Error("an unrelated error is a config mismatch")
	}
}

func TestClientConfigFileErrors(t *testing.T) {
	cfg, err := ClientConfig("")
	if err != nil || cfg == nil || cfg.RootCAs != nil {
		t.Fatalf("ClientConfig(\"\") = %+v, %v; want the system roots", cfg, err)
	}
	dir := t.TempDir()
	if _, err := ClientConfig(filepath.Join(dir, "missing.pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(empty, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ClientConfig(empty); !errors.Is(err, ErrNoCertificate) || !strings.Contains(err.Error(), empty) {
		t.Errorf("file without a certificate: %v", err)
	}
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ClientConfig(bad); err == nil || !strings.Contains(err.Error(), "certificate 1") {
		t.Errorf("broken certificate: %v", err)
	}
}

func TestClientConfigTrustsEveryCertInTheFile(t *testing.T) {
	srvA, caA := tlsServer(t, "127.0.0.1")
	srvB, caB := tlsServer(t, "127.0.0.1")
	both := filepath.Join(t.TempDir(), "both.pem")
	a, _ := os.ReadFile(caA)
	b, _ := os.ReadFile(caB)
	if err := os.WriteFile(both, append(a, b...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, srv := range []*httptest.Server{srvA, srvB} {
		if _, err := get(t, srv.URL, both, nil); err != nil {
			t.Errorf("GET %s with both CAs: %v", srv.URL, err)
		}
	}
	if _, err := get(t, srvB.URL, caA, nil); err == nil {
		t.Error("CA A trusted server B")
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.1.2.3": true,
		"::1": true, "[::1]": true, "::ffff:127.0.0.1": true,
		"": false, "example.invalid": false, "10.0.0.1": false, "0.0.0.0": false, "::": false,
		"[::2]": false, "localhost.example.com": false, "128.0.0.1": false, "192.168.1.1": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
