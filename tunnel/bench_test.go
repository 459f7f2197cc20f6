package tunnel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkTunnelThroughput copies a stream from the agent to the gateway
// over a real tunnel (Registry handler, Run, loopback), over TCP and TLS,
// with yamux's own two writes per frame ("split") and with frameConn
// ("coalesced"): 256 MiB in 32 KiB writes (bulk, as io.Copy does) and
// 32 MiB in 1 KiB writes (small frames, as interactive traffic makes).
func BenchmarkTunnelThroughput(b *testing.B) {
	for _, w := range []struct {
		name        string
		total, size int64
	}{{"32KiB", 256 << 20, 32 << 10}, {"1KiB", 32 << 20, 1 << 10}} {
		for _, tr := range []string{"tcp", "tls"} {
			for _, frames := range []string{"split", "coalesced"} {
				b.Run(w.name+"/"+tr+"/"+frames, func(b *testing.B) {
					benchThroughput(b, tr == "tls", frames == "split", w.total, w.size)
				})
			}
		}
	}
}

func benchThroughput(b *testing.B, useTLS, split bool, total, size int64) {
	reg := NewRegistry(RegistryConfig{splitFrames: split})
	mux := http.NewServeMux()
	mux.Handle(ConnectPath, reg.Handler(newTokens("tok", wsKey).auth))
	srv := httptest.NewUnstartedServer(mux)
	var tlsConfig *tls.Config
	if useTLS {
		srv.StartTLS()
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		tlsConfig = &tls.Config{RootCAs: pool}
	} else {
		srv.Start()
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	up := make(chan struct{}, 1)
	go func() {
		done <- Run(ctx, ClientConfig{
			URL:         srv.URL,
			Token:       "tok",
			TLSConfig:   tlsConfig,
			splitFrames: split,
			OnConnect: func() {
				select {
				case up <- struct{}{}:
				default:
				}
			},
			Handler: func(conn net.Conn, _ Header) {
				defer conn.Close()
				buf := make([]byte, size)
				for sent := int64(0); sent < total; sent += size {
					if _, err := conn.Write(buf); err != nil {
						return
					}
				}
				_ = CloseWrite(conn)
				_, _ = io.Copy(io.Discard, conn)
			},
		})
	}()
	defer func() {
		cancel()
		<-done
		srv.Close()
		_ = reg.Close()
	}()
	select {
	case <-up:
	case <-time.After(10 * time.Second):
		b.Fatal("agent did not connect")
	}
	for !reg.Connected(wsKey) {
		time.Sleep(time.Millisecond)
	}

	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		conn, err := reg.Open(context.Background(), wsKey, Header{Kind: KindSSH, User: "alice"})
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, conn)
		_ = conn.Close()
		if err != nil || n != total {
			b.Fatalf("copied %d bytes, %v; want %d", n, err, total)
		}
	}
}
