package edge

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Certificate is a TLS certificate and key loaded from two PEM files, served
// through TLSConfig and replaced while serving by Reload or Watch.
// Connections already open keep the pair they were made with. It is safe for
// concurrent use.
type Certificate struct {
	certFile, keyFile string
	log               *slog.Logger

	current atomic.Pointer[tls.Certificate]

	mu  sync.Mutex // serialises loads; guards sum
	sum [sha256.Size]byte
}

// LoadCertificate loads a certificate (its chain may follow it, leaf first)
// and its private key from PEM files. The error names the file and what is
// wrong with it. log receives the reloads; nil discards.
func LoadCertificate(certFile, keyFile string, log *slog.Logger) (*Certificate, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Certificate{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload loads both files again and serves the new pair on new connections.
// When they cannot be loaded it keeps serving the old pair and returns why.
func (c *Certificate) Reload() error {
	certPEM, keyPEM, err := c.readFiles()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.load(certPEM, keyPEM)
}

// load parses and installs a pair; c.mu is held. The files' digest is kept
// even when they are bad, so that Watch tries them once.
func (c *Certificate) load(certPEM, keyPEM []byte) error {
	c.sum = digest(certPEM, keyPEM)
	pair, err := parsePair(c.certFile, c.keyFile, certPEM, keyPEM)
	if err != nil {
		return err
	}
	c.current.Store(pair)
	c.log.Info("tls certificate loaded", "cert", c.certFile, "subject", pair.Leaf.Subject.String(),
		"serial", pair.Leaf.SerialNumber.String(), "not_after", pair.Leaf.NotAfter)
	if time.Now().After(pair.Leaf.NotAfter) {
		c.log.Warn("tls certificate has expired", "cert", c.certFile, "not_after", pair.Leaf.NotAfter)
	}
	return nil
}

func (c *Certificate) readFiles() (certPEM, keyPEM []byte, err error) {
	if certPEM, err = os.ReadFile(c.certFile); err != nil {
		return nil, nil, fmt.Errorf("read certificate file: %w", err)
	}
	if keyPEM, err = os.ReadFile(c.keyFile); err != nil {
		return nil, nil, fmt.Errorf("read key file: %w", err)
	}
	return certPEM, keyPEM, nil
}

func digest(certPEM, keyPEM []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(certPEM)
	h.Write([]byte{0}) // a byte moved from one file to the other is a change
	h.Write(keyPEM)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// parsePair checks each file on its own first, so that the error says which
// one is wrong, then lets crypto/tls match the key to the certificate.
func parsePair(certFile, keyFile string, certPEM, keyPEM []byte) (*tls.Certificate, error) {
	var leaf *x509.Certificate
	for rest := certPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate file %s: %w", certFile, err)
		}
		if leaf == nil {
			leaf = cert
		}
	}
	if leaf == nil {
		return nil, fmt.Errorf("certificate file %s: no PEM CERTIFICATE block", certFile)
	}
	if block, _ := pem.Decode(keyPEM); block == nil {
		return nil, fmt.Errorf("key file %s: no PEM private key block", keyFile)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("key file %s for certificate file %s: %w", keyFile, certFile, err)
	}
	if pair.Leaf == nil {
		pair.Leaf = leaf
	}
	return &pair, nil
}

// Leaf is the certificate served to new connections.
func (c *Certificate) Leaf() *x509.Certificate { return c.current.Load().Leaf }

// TLSConfig returns a new server configuration that serves the current pair:
// TLS 1.2 at least, Go's default cipher suites, and ALPN "http/1.1" only,
// since the gateway's upgrades (agent tunnels, SSH over HTTPS, WebSockets to
// apps) hijack the connection, which HTTP/2 does not allow. A client that
// offers only h2 is refused in the handshake.
//
// Wrap the listener with tls.NewListener and call http.Server.Serve: with
// ServeTLS, net/http would add "h2" to the protocols unless the server's
// Protocols allow HTTP/1 only.
func (c *Certificate) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.current.Load(), nil
		},
	}
}
