package sshfront

import (
	"golang.org/x/crypto/ssh"
)

// The front door's algorithms, named instead of taking x/crypto's
// defaults: those still offer NIST curves, SHA-1 and non-ETM MACs, which
// audits flag and no current client needs. Every OpenSSH since 7.4 (and
// paramiko, asyncssh, PuTTY) speaks curve25519, the AEAD ciphers and the
// SHA-2 ETM MACs.
var (
	// kexAlgorithms: the hybrid post-quantum exchange first.
	// curve25519-sha256@libssh.org is added by x/crypto alongside
	// curve25519-sha256 for OpenSSH < 7.3. x/crypto has no
	// sntrup761x25519-sha512, so it is not offered.
	kexAlgorithms = []string{
		ssh.KeyExchangeMLKEM768X25519,
		ssh.KeyExchangeCurve25519,
	}
	// ciphers: the AEAD ones first (every OpenSSH picks them), then AES-CTR
	// for clients without them, paramiko among them (Debian's 2.12
	// has CTR and CBC only); CTR is paired with ETM MACs only.
	ciphers = []string{
		ssh.CipherAES128GCM,
		ssh.CipherAES256GCM,
		ssh.CipherChaCha20Poly1305,
		ssh.CipherAES128CTR,
		ssh.CipherAES256CTR,
	}
	// macs: encrypt-then-MAC with SHA-2, for the CTR ciphers (the AEAD
	// ones ignore them).
	macs = []string{
		ssh.HMACSHA256ETM,
		ssh.HMACSHA512ETM,
	}
)

// hostKeyAlgorithms are the signature algorithms offered for a host key:
// its own for ed25519 and ECDSA; for RSA only the SHA-2 ones (ssh-rsa
// signs with SHA-1).
func hostKeyAlgorithms(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return nil // the key's own algorithm
}

// hardenedHostSigner restricts an RSA host key to rsa-sha2-512/256.
func hardenedHostSigner(s ssh.Signer) (ssh.Signer, error) {
	algs := hostKeyAlgorithms(s.PublicKey().Type())
	if algs == nil {
		return s, nil
	}
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok {
		return s, nil
	}
	return ssh.NewSignerWithAlgorithms(as, algs)
}

// applyAlgorithms sets the explicit lists on conf.
func applyAlgorithms(conf *ssh.ServerConfig) {
	conf.KeyExchanges = kexAlgorithms
	conf.Ciphers = ciphers
	conf.MACs = macs
}
