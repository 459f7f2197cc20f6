package devca

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func mustEnsure(t *testing.T, dir string, hosts ...string) Files {
	t.Helper()
	f, err := Ensure(dir, hosts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// verifyFor checks the leaf in f against f's CA (alone) for each host.
func verifyFor(t *testing.T, f Files, hosts ...string) {
	t.Helper()
	ca, leaf := readCert(t, f.CA), readCert(t, f.Cert)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, h := range hosts {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: h}); err != nil {
			t.Errorf("leaf does not verify for %q: %v", h, err)
		}
	}
}

func TestEnsureCreatesCAAndLeaf(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	f := mustEnsure(t, dir, "localhost", "127.0.0.1", "[::1]", "gw.example.test")
	modes := map[string]os.FileMode{
		f.CA: 0o644, filepath.Join(dir, CAKeyFile): 0o600, f.Cert: 0o644, f.Key: 0o600,
	}
	for path, want := range modes {
		if !filepath.IsAbs(path) {
			t.Errorf("%s is not absolute", path)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
		}
	}
	verifyFor(t, f, "localhost", "127.0.0.1", "::1", "gw.example.test")

	ca := readCert(t, f.CA)
	if !ca.IsCA || ca.MaxPathLen != 0 || !ca.MaxPathLenZero || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA constraints: IsCA %v MaxPathLen %d zero %v usage %v", ca.IsCA, ca.MaxPathLen, ca.MaxPathLenZero, ca.KeyUsage)
	}
	leaf := readCert(t, f.Cert)
	now := time.Now()
	if leaf.IsCA || !leaf.NotBefore.Before(now.Add(-time.Minute)) {
		t.Errorf("leaf IsCA %v, NotBefore %v (want a little in the past)", leaf.IsCA, leaf.NotBefore)
	}
	if life := leaf.NotAfter.Sub(now); life < 360*24*time.Hour || life > 366*24*time.Hour {
		t.Errorf("leaf valid for %v more, want about a year", life)
	}
	if leaf.PublicKeyAlgorithm != x509.ECDSA || ca.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithms %v, %v; want ECDSA", leaf.PublicKeyAlgorithm, ca.PublicKeyAlgorithm)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: x509.NewCertPool(), DNSName: "localhost"}); err == nil {
		t.Error("leaf verifies without its CA")
	}
}

func TestEnsureReusesValidFiles(t *testing.T) {
	dir := t.TempDir()
	first := mustEnsure(t, dir, "localhost", "127.0.0.1")
	ca, cert, key := readFile(t, first.CA), readFile(t, first.Cert), readFile(t, first.Key)

	// A subset of the hosts is still served by the same certificate.
	second := mustEnsure(t, dir, "127.0.0.1")
	if second != first {
		t.Errorf("paths changed: %+v then %+v", first, second)
	}
	if !bytes.Equal(readFile(t, second.CA), ca) || !bytes.Equal(readFile(t, second.Cert), cert) || !bytes.Equal(readFile(t, second.Key), key) {
		t.Error("second call rewrote files that were still valid")
	}
}

func TestEnsureReissuesLeafForNewHosts(t *testing.T) {
	dir := t.TempDir()
	first := mustEnsure(t, dir, "localhost")
	ca, cert := readFile(t, first.CA), readFile(t, first.Cert)

	f := mustEnsure(t, dir, "localhost", "gw.example.test")
	if !bytes.Equal(readFile(t, f.CA), ca) {
		t.Error("the CA was replaced; only the leaf should be")
	}
	if bytes.Equal(readFile(t, f.Cert), cert) {
		t.Fatal("leaf not re-issued for a new host")
	}
	verifyFor(t, f, "localhost", "gw.example.test")
}

func TestEnsureReplacesBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	first := mustEnsure(t, dir, "localhost")
	ca := readFile(t, first.CA)

	// A leaf key that no longer matches its certificate is re-issued.
	if err := os.WriteFile(first.Key, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := mustEnsure(t, dir, "localhost")
	verifyFor(t, f, "localhost")
	if !bytes.Equal(readFile(t, f.CA), ca) {
		t.Error("the CA was replaced for a broken leaf")
	}

	// A CA key others can read is not reused: a new CA, and a leaf from it.
	if err := os.Chmod(filepath.Join(dir, CAKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	f = mustEnsure(t, dir, "localhost")
	if bytes.Equal(readFile(t, f.CA), ca) {
		t.Error("a CA with a readable key was reused")
	}
	verifyFor(t, f, "localhost")
}

func TestEnsureRefusesNoHosts(t *testing.T) {
	for _, hosts := range [][]string{nil, {""}, {" "}, {"a b"}} {
		if _, err := Ensure(t.TempDir(), hosts); err == nil {
			t.Errorf("Ensure(%q) succeeded", hosts)
		}
	}
}
