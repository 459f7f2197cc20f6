package tunnel

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"log/slog"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/wsgate/wsgate/internal/testutil"
)

// throwawayCert is a self-signed certificate for 127.0.0.1.
func throwawayCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tunnel test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// yamuxPair runs a yamux client on writer (under a frameConn unless split)
// and a server on reader, opens a stream and gets it across, so that what
// the client writes afterwards is only the DATA frames of the test.
func yamuxPair(t *testing.T, writer, reader net.Conn, split bool) (w, r net.Conn) {
	t.Helper()
	cfg := yamuxConfig(time.Hour, slog.New(slog.DiscardHandler))
	cs, err := yamux.Client(tunnelConn(writer, split), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := yamux.Server(reader, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close(); _ = ss.Close() })
	ws, err := cs.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	rs, err := ss.AcceptStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rs, make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	return ws, rs
}

// send writes p on w and reads it all on r.
func send(t *testing.T, w, r net.Conn, p []byte) {
	t.Helper()
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, len(p))); err != nil {
		t.Fatal(err)
	}
}

func TestFrameConnUnderYamuxTCP(t *testing.T) {
	const writes, size = 100, 1 << 10
	for _, tc := range []struct {
		name  string
		split bool
		want  int // writes on the socket
	}{
		{"coalesced", false, writes},
		{"split", true, 2 * writes}, // yamux alone: header, then body
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s := testutil.TCPPair(t)
			rec := &recordingConn{Conn: c}
			w, r := yamuxPair(t, rec, s, tc.split)
			mark := rec.count()
			for range writes {
				send(t, w, r, make([]byte, size))
			}
			got := rec.since(mark)
			if len(got) != tc.want {
				t.Fatalf("%d stream writes made %d socket writes, want %d", writes, len(got), tc.want)
			}
			if !tc.split {
				for i, p := range got {
					if len(p) != yamuxHeaderSize+size || heldLength(p[:yamuxHeaderSize]) != size {
						t.Fatalf("socket write %d: %d bytes, want one frame of %d", i, len(p), yamuxHeaderSize+size)
					}
				}
			}
		})
	}
}

func TestFrameConnUnderYamuxTLS(t *testing.T) {
	cert, pool := throwawayCert(t)
	for _, tc := range []struct {
		name  string
		split bool
		want  int // TLS records for one 8 KiB stream write
	}{
		{"coalesced", false, 1},
		{"split", true, 2}, // the header in a record of its own
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s := testutil.TCPPair(t)
			rec := &recordingConn{Conn: c}
			tc1 := tls.Client(rec, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13})
			ts := tls.Server(s, &tls.Config{Certificates: []tls.Certificate{cert}})
			w, r := yamuxPair(t, tc1, ts, tc.split)
			// Past Go's dynamic record sizing, which starts with small
			// records, so that records are as big as the protocol allows.
			send(t, w, r, make([]byte, 192<<10))
			mark := rec.count()
			const size = 8 << 10
			send(t, w, r, make([]byte, size))
			got := rec.since(mark)
			records := tlsRecords(t, got)
			if len(records) != tc.want {
				t.Fatalf("an 8 KiB stream write made %d TLS records %v in %d socket writes, want %d records",
					len(records), records, len(got), tc.want)
			}
			// TLS 1.3 adds a content type byte and a 16-byte tag.
			if !tc.split && records[0] != yamuxHeaderSize+size+1+16 {
				t.Fatalf("record of %d bytes, want header and body", records[0])
			}
		})
	}
}

// tlsRecords returns the length of each TLS record in writes, which must
// hold whole records.
func tlsRecords(t *testing.T, writes [][]byte) []int {
	t.Helper()
	var lens []int
	for _, w := range writes {
		for len(w) > 0 {
			if len(w) < 5 {
				t.Fatalf("partial TLS record header %x", w)
			}
			n := int(binary.BigEndian.Uint16(w[3:5]))
			if len(w) < 5+n {
				t.Fatalf("TLS record of %d bytes cut at %d", n, len(w)-5)
			}
			lens = append(lens, n)
			w = w[5+n:]
		}
	}
	return lens
}
