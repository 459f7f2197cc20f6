package main

import (
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wsgate/wsgate/internal/devca"
)

// devCA makes a throwaway CA and a server certificate for hosts.
func devCA(t *testing.T, hosts ...string) devca.Files {
	t.Helper()
	f, err := devca.Ensure(t.TempDir(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// serveTLS returns a function that serves a handler over TLS with f's
// certificate (for newCLIEnvServing), on 127.0.0.1.
func serveTLS(t *testing.T, f devca.Files) func(http.Handler) *httptest.Server {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	return func(h http.Handler) *httptest.Server {
		srv := httptest.NewUnstartedServer(h)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
		srv.StartTLS()
		return srv
	}
}
