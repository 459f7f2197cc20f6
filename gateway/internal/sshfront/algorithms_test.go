package sshfront

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"net"
	"slices"
	"testing"

	"golang.org/x/crypto/ssh"
)

// handshakeWith runs a handshake between a server with the front door's
// algorithms and a client restricted to cc's; it returns the client's
// error.
func handshakeWith(t *testing.T, cc ssh.Config) error {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sconf := &ssh.ServerConfig{NoClientAuth: true}
	applyAlgorithms(sconf)
	sconf.AddHostKey(signer)
	// TCP, not net.Pipe: both sides write their KEXINIT before reading.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		a, err := ln.Accept()
		if err != nil {
			return
		}
		if sc, _, _, err := ssh.NewServerConn(a, sconf); err == nil {
			_ = sc.Close()
		}
		_ = a.Close()
	}()
	b, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	conf := &ssh.ClientConfig{Config: cc, User: "x", HostKeyCallback: ssh.InsecureIgnoreHostKey()}
	c, _, _, err := ssh.NewClientConn(b, "pipe", conf)
	if err == nil {
		_ = c.Close()
	}
	return err
}

func TestAlgorithms(t *testing.T) {
	for _, c := range []struct {
		name string
		conf ssh.Config
		ok   bool
	}{
		{"mlkem", ssh.Config{KeyExchanges: []string{ssh.KeyExchangeMLKEM768X25519}}, true},
		{"curve25519_chacha", ssh.Config{KeyExchanges: []string{ssh.KeyExchangeCurve25519}, Ciphers: []string{ssh.CipherChaCha20Poly1305}}, true},
		{"ctr_etm", ssh.Config{Ciphers: []string{ssh.CipherAES128CTR}, MACs: []string{ssh.HMACSHA256ETM}}, true},
		{"nist_kex", ssh.Config{KeyExchanges: []string{ssh.KeyExchangeECDHP256}}, false},
		{"sha1_kex", ssh.Config{KeyExchanges: []string{ssh.InsecureKeyExchangeDH14SHA1}}, false},
		{"dh14_sha256", ssh.Config{KeyExchanges: []string{ssh.KeyExchangeDH14SHA256}}, false},
		{"ctr_non_etm", ssh.Config{Ciphers: []string{ssh.CipherAES128CTR}, MACs: []string{ssh.HMACSHA256}}, false},
		{"ctr_sha1", ssh.Config{Ciphers: []string{ssh.CipherAES128CTR}, MACs: []string{ssh.HMACSHA1}}, false},
		{"cbc", ssh.Config{Ciphers: []string{ssh.InsecureCipherAES128CBC}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := handshakeWith(t, c.conf)
			if (err == nil) != c.ok {
				t.Fatalf("handshake error %v, want ok=%v", err, c.ok)
			}
		})
	}
}

func TestHardenedRSAHostKey(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hardenedHostSigner(s)
	if err != nil {
		t.Fatal(err)
	}
	ms, ok := h.(ssh.MultiAlgorithmSigner)
	if !ok {
		t.Fatalf("%T is not restricted", h)
	}
	if got := ms.Algorithms(); slices.Contains(got, ssh.KeyAlgoRSA) || !slices.Contains(got, ssh.KeyAlgoRSASHA512) {
		t.Fatalf("RSA host key algorithms %v", got)
	}
}
