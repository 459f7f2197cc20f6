package apiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/internal/upgrade"
)

func dialSSH(t *testing.T, srv *httptest.Server, path, token string) (net.Conn, error) {
	t.Helper()
	c, err := apiclient.New(srv.URL+path, token, apiclient.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.DialSSH(ctx)
}

func TestDialSSHRefusalIsAnAPIError(t *testing.T) {
	reqs := make(chan *http.Request, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs <- r
		if r.URL.Path == "/plain"+apitypes.SSHUpgradePath {
			http.Error(w, "not json", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(apitypes.Error{
			Message:     "unauthorized: go away",
			Validations: []apitypes.Validation{{Field: "token", Detail: "expired"}},
		})
	}))
	defer srv.Close()

	_, err := dialSSH(t, srv, "/base/", "tok")
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized || ae.Message != "unauthorized: go away" ||
		len(ae.Validations) != 1 || ae.Validations[0].Detail != "expired" {
		t.Fatalf("DialSSH = %#v", err)
	}
	r := <-reqs
	if r.Method != http.MethodPost || r.URL.Path != "/base"+apitypes.SSHUpgradePath ||
		r.Header.Get("Authorization") != "Bearer tok" || !upgrade.Requested(r, apitypes.SSHUpgradeProtocol) ||
		r.Header.Get("User-Agent") != "wsgate-cli" {
		t.Fatalf("request %s %s %q", r.Method, r.URL, r.Header)
	}

	_, err = dialSSH(t, srv, "/plain", "tok")
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadGateway || ae.Message != "" {
		t.Fatalf("DialSSH with a non-JSON refusal = %#v", err)
	}
}

// `wsgate ssh --stdio` passes its stdin's EOF on with CloseWrite; over TLS
// with the HTTP client's CA.
func TestDialSSHCloseWriteOverTLS(t *testing.T) {
	var wg sync.WaitGroup
	defer wg.Wait() // after srv.Close: the hijacked handler must be done
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		c, err := upgrade.Accept(w, apitypes.SSHUpgradeProtocol)
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		defer c.Close()
		_ = c.Commit()
		// Echo until the client's EOF, then close.
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.Copy(c, c)
	}))
	defer srv.Close()

	conn, err := dialSSH(t, srv, "", "tok")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "SSH-2.0-test\r\n"); err != nil {
		t.Fatal(err)
	}
	hc, ok := conn.(interface{ CloseWrite() error })
	if !ok {
		t.Fatalf("%T cannot CloseWrite", conn)
	}
	if err := hc.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	// Shorter than the server's deadline: only the EOF passed on ends the echo.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != "SSH-2.0-test\r\n" {
		t.Fatalf("echo %q, %v", got, err)
	}
}
