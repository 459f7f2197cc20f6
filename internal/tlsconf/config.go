// Package tlsconf builds the TLS settings wsgate's clients (the agent, the
// CLI) use to reach a gateway, and turns certificate failures into errors
// that say what to do. Standard library only.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// ClientConfig returns the client TLS settings for a gateway. Without a CA
// file the system roots are trusted (on Linux Go reads them from
// SSL_CERT_FILE and SSL_CERT_DIR when set). With one, the certificates in
// it (PEM, one or more) are trusted as well as the system roots, so a
// private CA works without hiding public ones.
func ClientConfig(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, nil
	}
	certs, err := readCerts(caFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		// No system roots (unusual, e.g. a scratch container): the CA
		// file alone is still a working trust anchor.
		pool = x509.NewCertPool()
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// readCerts parses every CERTIFICATE block of a PEM file; other blocks are
// skipped, and a file without any certificate is an error (AppendCertsFromPEM
// would silently trust nothing).
func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA file %s: certificate %d: %w", path, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("CA file %s: %w", path, ErrNoCertificate)
	}
	return certs, nil
}

// ErrNoCertificate is returned (wrapped) for a CA file without a PEM
// certificate in it.
var ErrNoCertificate = errors.New("no PEM certificate found (want -----BEGIN CERTIFICATE-----)")
