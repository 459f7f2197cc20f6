package apiclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/httpapi"
	"github.com/wsgate/wsgate/internal/devca"
	"github.com/wsgate/wsgate/internal/tlsconf"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// tlsServer serves h over TLS with a certificate for 127.0.0.1 from a
// throwaway CA; it returns the server and the CA file.
func tlsServer(t *testing.T, h http.Handler) (*httptest.Server, string) {
	t.Helper()
	f, err := devca.Ensure(t.TempDir(), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, f.CA
}

// tlsClient is a client of url trusting caFile ("" for the system roots).
func tlsClient(t *testing.T, url, token, caFile string) *apiclient.Client {
	t.Helper()
	cfg, err := tlsconf.ClientConfig(caFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := apiclient.New(url, token, apiclient.WithTLSConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestTLSWithPrivateCA(t *testing.T) {
	st, err := filestore.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateUser(t.Context(), acl.User{Name: "alice", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	secret := acl.NewSecret(acl.APITokenPrefix)
	if err := st.CreateToken(t.Context(), acl.Token{ID: acl.NewID(), User: "alice", Name: "t", Hash: acl.HashToken(secret), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	srv, ca := tlsServer(t, h)

	me, err := tlsClient(t, srv.URL, secret, ca).Me(t.Context())
	if err != nil || me.Name != "alice" {
		t.Fatalf("Me with the CA: %+v, %v", me, err)
	}

	_, err = tlsClient(t, srv.URL, secret, "").Me(t.Context())
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("Me without the CA: %v; want an explained unknown authority", err)
	}

	plain := strings.Replace(srv.URL, "https://", "http://", 1)
	_, err = tlsClient(t, plain, secret, ca).Me(t.Context())
	if !errors.Is(err, tlsconf.ErrHTTPToTLS) || !strings.Contains(err.Error(), "use an https:// URL") {
		t.Fatalf("Me over http:// to the TLS port: %v", err)
	}
}

func TestDialSSHUsesTheTLSConfig(t *testing.T) {
	var wg sync.WaitGroup
	defer wg.Wait() // after srv.Close: the hijacked handler must be done
	srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		c, err := upgrade.Accept(w, apitypes.SSHUpgradeProtocol)
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		_ = c.Commit()
		_ = c.Close()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	conn, err := tlsClient(t, srv.URL, "tok", ca).DialSSH(ctx)
	if err != nil {
		t.Fatalf("DialSSH with the CA: %v", err)
	}
	conn.Close()

	_, err = tlsClient(t, srv.URL, "tok", "").DialSSH(ctx)
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("DialSSH without the CA: %v; want an explained unknown authority", err)
	}

	_, err = tlsClient(t, strings.Replace(srv.URL, "https://", "http://", 1), "tok", ca).DialSSH(ctx)
	if !errors.Is(err, tlsconf.ErrHTTPToTLS) || !strings.Contains(err.Error(), "use an https:// URL") {
		t.Fatalf("DialSSH over http:// to the TLS port: %v", err)
	}
}
