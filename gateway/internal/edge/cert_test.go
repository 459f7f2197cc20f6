package edge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

func TestLoadCertificateErrors(t *testing.T) {
	ca := newTestCA(t)
	certPEM, keyPEM := ca.leaf(t, 2)
	_, otherKey := ca.leaf(t, 3)
	dir := t.TempDir()
	path := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, data)
		return p
	}
	goodCert, goodKey := path("good.crt", certPEM), path("good.key", keyPEM)
	corrupt := []byte("-----BEGIN CERTIFICATE-----\nbm90IERFUg==\n-----END CERTIFICATE-----\n")
	tests := []struct {
		name      string
		cert, key string
		want      []string // parts of the error
	}{
		{"missing certificate file", filepath.Join(dir, "nope.crt"), goodKey,
			[]string{"nope.crt", "no such file"}},
		{"missing key file", goodCert, filepath.Join(dir, "nope.key"),
			[]string{"nope.key", "no such file"}},
		{"garbage certificate", path("garbage.crt", []byte("hello")), goodKey,
			[]string{"garbage.crt", "no PEM CERTIFICATE"}},
		{"key in the certificate file", path("swapped.crt", keyPEM), goodKey,
			[]string{"swapped.crt", "no PEM CERTIFICATE"}},
		{"corrupt certificate", path("corrupt.crt", corrupt), goodKey,
			[]string{"corrupt.crt"}},
		{"garbage key", goodCert, path("garbage.key", []byte("hello")),
			[]string{"garbage.key", "no PEM private key"}},
		{"key does not match", goodCert, path("other.key", otherKey),
			[]string{"other.key", "good.crt", "does not match"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadCertificate(tt.cert, tt.key, nil)
			if err == nil {
				t.Fatalf("LoadCertificate succeeded, leaf %v", c.Leaf().SerialNumber)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, err := LoadCertificate(filepath.Join(dir, "nope.crt"), goodKey, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v is not os.ErrNotExist", err)
	}
}

// serveTLS serves a trivial HTTP handler over cert's TLS config on
// 127.0.0.1, as the gateway is meant to, and returns its address.
func serveTLS(t *testing.T, cert *Certificate) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("ok"))
		}),
		ErrorLog: log.New(io.Discard, "", 0), // refused handshakes are expected
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(tls.NewListener(ln, cert.TLSConfig()))
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// dialTLS connects to addr trusting ca.
func dialTLS(t *testing.T, addr string, ca *testCA, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg.RootCAs = ca.pool
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err == nil {
		t.Cleanup(func() { _ = conn.Close() })
	}
	return conn, err
}

// roundTrip sends one keep-alive request on conn and wants "ok".
func roundTrip(t *testing.T, conn *tls.Conn, br *bufio.Reader) {
	t.Helper()
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || body.String() != "ok" {
		t.Fatalf("response %s %q", resp.Status, body.String())
	}
}

func servedSerial(t *testing.T, conn *tls.Conn) int64 {
	t.Helper()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func TestReloadServesNewLeafToNewConnections(t *testing.T) {
	ca := newTestCA(t)
	certFile, keyFile := ca.writeLeaf(t, t.TempDir(), 100)
	cert, err := LoadCertificate(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, cert)

	old, err := dialTLS(t, addr, ca, nil)
	if err != nil {
		t.Fatal(err)
	}
	oldBr := bufio.NewReader(old)
	roundTrip(t, old, oldBr)
	if got := servedSerial(t, old); got != 100 {
		t.Fatalf("served serial %d, want 100", got)
	}
	if n := len(old.ConnectionState().PeerCertificates); n != 2 {
		t.Fatalf("served %d certificates, want the chain of 2", n)
	}

	ca.writeLeaf(t, filepath.Dir(certFile), 200)
	if err := cert.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := cert.Leaf().SerialNumber.Int64(); got != 200 {
		t.Fatalf("Leaf serial %d after Reload, want 200", got)
	}
	fresh, err := dialTLS(t, addr, ca, nil)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, fresh, bufio.NewReader(fresh))
	if got := servedSerial(t, fresh); got != 200 {
		t.Fatalf("new connection served serial %d, want 200", got)
	}
	roundTrip(t, old, oldBr) // the open connection keeps working

	// A bad pair is refused and the good one stays.
	writeFile(t, keyFile, []byte("garbage"))
	if err := cert.Reload(); err == nil || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("Reload of a garbage key: %v, want an error naming %s", err, keyFile)
	}
	again, err := dialTLS(t, addr, ca, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, again); got != 200 {
		t.Fatalf("after a failed reload served serial %d, want 200", got)
	}
}

func TestWatchReloadsOnChange(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.writeLeaf(t, dir, 1)
	var logs testutil.Buffer
	cert, err := LoadCertificate(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		cert.Watch(ctx, 5*time.Millisecond)
	}()
	defer func() {
		cancel()
		<-done
	}()
	serial := func() int64 { return cert.Leaf().SerialNumber.Int64() }

	ca.writeLeaf(t, dir, 2)
	testutil.Eventually(t, "the new certificate", func() bool { return serial() == 2 })

	// A certificate replaced before its key: the mismatch is reported once
	// and the old pair served until the key lands.
	certPEM, keyPEM := ca.leaf(t, 3)
	writeFile(t, certFile, certPEM)
	testutil.Eventually(t, "the failure logged", func() bool {
		return strings.Contains(logs.String(), "does not match")
	})
	if serial() != 2 {
		t.Fatalf("serving serial %d after a failed reload, want 2", serial())
	}
	writeFile(t, keyFile, keyPEM)
	testutil.Eventually(t, "the completed pair", func() bool { return serial() == 3 })
	if n := strings.Count(logs.String(), "does not match"); n != 1 {
		t.Errorf("the mismatch was logged %d times, want once:\n%s", n, logs.String())
	}

	// A file gone for a while is logged once, not on every poll.
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the missing file logged", func() bool {
		return strings.Contains(logs.String(), "no such file")
	})
	time.Sleep(50 * time.Millisecond)
	if n := strings.Count(logs.String(), "no such file"); n != 1 {
		t.Errorf("the missing file was logged %d times, want once", n)
	}
	if serial() != 3 {
		t.Fatalf("serving serial %d with the key missing, want 3", serial())
	}
}

func TestWatchStopsWithContext(t *testing.T) {
	ca := newTestCA(t)
	certFile, keyFile := ca.writeLeaf(t, t.TempDir(), 1)
	cert, err := LoadCertificate(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		cert.Watch(ctx, time.Hour)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}
}

func TestTLSConfigRefusesOldVersionsAndH2(t *testing.T) {
	ca := newTestCA(t)
	certFile, keyFile := ca.writeLeaf(t, t.TempDir(), 7)
	cert, err := LoadCertificate(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, cert)

	if _, err := dialTLS(t, addr, ca, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("a TLS 1.1 client: %v, want a protocol version alert", err)
	}
	if _, err := dialTLS(t, addr, ca, &tls.Config{NextProtos: []string{"h2"}}); err == nil || !strings.Contains(err.Error(), "no application protocol") {
		t.Errorf("an h2-only client: %v, want a no application protocol alert", err)
	}
	conn, err := dialTLS(t, addr, ca, &tls.Config{NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := conn.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
		t.Errorf("negotiated %q, want http/1.1", p)
	}
	conn, err = dialTLS(t, addr, ca, &tls.Config{MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("a TLS 1.2 client without ALPN: %v", err)
	}
	roundTrip(t, conn, bufio.NewReader(conn))
}
