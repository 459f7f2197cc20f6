// Package devca makes a throwaway certificate authority and a server
// certificate signed by it, for `wsgate dev --tls` and tests: good enough to
// exercise real TLS with a private CA, never meant for production.
// Standard library only.
package devca

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside the directory given to Ensure.
const (
	CAFile     = "ca.pem"
	CAKeyFile  = "ca-key.pem"
	CertFile   = "cert.pem"
	KeyFile    = "key.pem"
	keyMode    = 0o600
	publicMode = 0o644
)

// Lifetimes and the margins under which a file is issued again.
const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 365 * 24 * time.Hour
	// backdate covers clocks a little behind the issuer's.
	backdate = time.Hour
	// renewBefore: a certificate this close to its end is issued again
	// rather than reused.
	renewBefore = 30 * 24 * time.Hour
)

// Files are the absolute paths Ensure wrote or reused: the CA certificate
// clients trust, and the server's certificate and key.
type Files struct {
	CA, Cert, Key string
}

// Ensure makes dir hold a CA (ca.pem, ca-key.pem) and a server certificate
// for hosts (names or IP addresses; cert.pem, key.pem) signed by it, and
// returns their paths. Files from an earlier call are reused while they are
// valid: the CA when it parses, matches its key and is not near its end;
// the server certificate when it also verifies against that CA for every
// host and is not near its end. Otherwise the server certificate is issued
// again (and the CA too when it is the one at fault, which makes earlier
// copies of ca.pem stale). Keys are ECDSA P-256, written with mode 0600.
func Ensure(dir string, hosts []string) (Files, error) {
	hosts, err := cleanHosts(hosts)
	if err != nil {
		return Files{}, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return Files{}, fmt.Errorf("dev CA: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("dev CA: %w", err)
	}
	f := Files{CA: filepath.Join(dir, CAFile), Cert: filepath.Join(dir, CertFile), Key: filepath.Join(dir, KeyFile)}
	caKeyPath := filepath.Join(dir, CAKeyFile)
	now := time.Now()

	ca, err := loadCA(f.CA, caKeyPath, now)
	if err != nil {
		if ca, err = newCA(now); err != nil {
			return Files{}, err
		}
		if err := writePair(f.CA, ca.certPEM, caKeyPath, ca.keyPEM); err != nil {
			return Files{}, err
		}
	} else if leafValid(f.Cert, f.Key, ca, hosts, now) == nil {
		return f, nil
	}
	leaf, err := newLeaf(ca, hosts, now)
	if err != nil {
		return Files{}, err
	}
	if err := writePair(f.Cert, leaf.certPEM, f.Key, leaf.keyPEM); err != nil {
		return Files{}, err
	}
	return f, nil
}

// cleanHosts trims names, drops brackets around IPv6 addresses and
// duplicates, and refuses an empty list.
func cleanHosts(hosts []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, h := range hosts {
		h = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(h), "["), "]")
		if h == "" || seen[h] {
			continue
		}
		if strings.ContainsAny(h, " /:") && net.ParseIP(h) == nil {
			return nil, fmt.Errorf("dev CA: %q is neither a host name nor an IP address", h)
		}
		seen[h] = true
		out = append(out, h)
	}
	if len(out) == 0 {
		return nil, errors.New("dev CA: no host names for the server certificate")
	}
	return out, nil
}

// leafValid checks a stored server certificate: its key matches, and it
// verifies against the CA for every host, now and for renewBefore more.
func leafValid(certPath, keyPath string, ca *authority, hosts []string, now time.Time) error {
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return err
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return err
	}
	if err := checkKeyFile(keyPath); err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	for _, at := range []time.Time{now, now.Add(renewBefore)} {
		for _, h := range hosts {
			opts := x509.VerifyOptions{Roots: roots, DNSName: h, CurrentTime: at,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
			if _, err := leaf.Verify(opts); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkKeyFile refuses a key others may read, so a reused key is as private
// as a fresh one.
func checkKeyFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s: mode %v is readable by others", path, fi.Mode().Perm())
	}
	return nil
}

// writePair writes a certificate (0644) and its key (0600), each through a
// temporary file and a rename so a reader never sees half a file. The key
// goes first: a certificate never sits next to a key that is not its own
// for longer than one rename.
func writePair(certPath string, certPEM []byte, keyPath string, keyPEM []byte) error {
	if err := writeFile(keyPath, keyPEM, keyMode); err != nil {
		return err
	}
	return writeFile(certPath, certPEM, publicMode)
}

func writeFile(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("dev CA: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(mode); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("dev CA: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("dev CA: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("dev CA: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("dev CA: %w", err)
	}
	return nil
}
