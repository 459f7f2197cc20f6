package sshfront

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
)

// Keys of ssh.Permissions.Extensions set by authentication. They carry the
// identity from the handshake to the rest of the connection.
const (
	extUser           = "wsgate-user"
	extKeyFingerprint = "wsgate-key-fingerprint"
	extCertSerial     = "wsgate-cert-serial"
	extCertKeyID      = "wsgate-cert-key-id"
	extForceCommand   = "wsgate-force-command"
	extNoPTY          = "wsgate-no-pty"
	extNoPortForward  = "wsgate-no-port-forwarding"
	extNoAgentForward = "wsgate-no-agent-forwarding"
	extTokenID        = "wsgate-token-id"
	// extExpires is when the credential expires (Unix nanoseconds).
	extExpires = "wsgate-credential-expires"
	// extVerified marks permissions that a verified key (or a bound
	// identity) produced; only such permissions name the connection's user.
	extVerified = "wsgate-verified"
)

// errNoneAuth refuses the "none" authentication method.
var errNoneAuth = errors.New(`the "none" method is not accepted`)

// Certificate critical options wsgate understands; any other one makes the
// certificate unusable, as OpenSSH does.
const (
	optSourceAddress = "source-address"
	optForceCommand  = "force-command"
)

// maxCertPrincipals bounds the store lookups one certificate can cause.
const maxCertPrincipals = 16

// identity is who authenticated and under which restrictions (those of a
// certificate).
type identity struct {
	acl.Identity
	ForceCommand   string
	HasForce       bool
	NoPTY          bool
	NoPortForward  bool
	NoAgentForward bool
}

func (id identity) permissions(criticalOptions map[string]string) *ssh.Permissions {
	ext := map[string]string{
		extUser:           id.User,
		extKeyFingerprint: id.KeyFingerprint,
	}
	if id.Cert {
		ext[extCertSerial] = strconv.FormatUint(id.CertSerial, 10)
		ext[extCertKeyID] = id.CertKeyID
	}
	if id.HasForce {
		ext[extForceCommand] = id.ForceCommand
	}
	setFlag := func(k string, v bool) {
		if v {
			ext[k] = "1"
		}
	}
	setFlag(extNoPTY, id.NoPTY)
	setFlag(extNoPortForward, id.NoPortForward)
	setFlag(extNoAgentForward, id.NoAgentForward)
	if id.TokenID != "" {
		ext[extTokenID] = id.TokenID
	}
	if !id.Expires.IsZero() {
		ext[extExpires] = strconv.FormatInt(id.Expires.UnixNano(), 10)
	}
	return &ssh.Permissions{CriticalOptions: criticalOptions, Extensions: ext}
}

// verifiedPermissions are id's permissions marked as the connection's
// identity, for a connection whose user is already known.
func (id identity) verifiedPermissions() *ssh.Permissions {
	p := id.permissions(nil)
	p.Extensions[extVerified] = "1"
	return p
}

// identityFrom is the identity of an authenticated connection: that of
// the permissions verifiedKey (or a bound identity) marked, never that of
// a key only checked.
func identityFrom(p *ssh.Permissions) (identity, error) {
	if p == nil || p.Extensions[extVerified] == "" {
		return identity{}, errors.New("connection has no verified wsgate identity")
	}
	return parseIdentity(p)
}

// parseIdentity reads the identity in p, verified or not.
func parseIdentity(p *ssh.Permissions) (identity, error) {
	if p == nil || p.Extensions[extUser] == "" {
		return identity{}, errors.New("connection has no wsgate identity")
	}
	e := p.Extensions
	id := identity{
		Identity: acl.Identity{
			User:           e[extUser],
			KeyFingerprint: e[extKeyFingerprint],
			CertKeyID:      e[extCertKeyID],
			TokenID:        e[extTokenID],
		},
		NoPTY:          e[extNoPTY] != "",
		NoPortForward:  e[extNoPortForward] != "",
		NoAgentForward: e[extNoAgentForward] != "",
	}
	if s, ok := e[extCertSerial]; ok {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return identity{}, fmt.Errorf("bad certificate serial %q: %w", s, err)
		}
		id.Cert, id.CertSerial = true, n
	}
	if s, ok := e[extExpires]; ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return identity{}, fmt.Errorf("bad credential expiry %q: %w", s, err)
		}
		id.Expires = time.Unix(0, n)
	}
	id.ForceCommand, id.HasForce = e[extForceCommand]
	return id, nil
}

// authenticator checks public keys and user certificates for one
// connection; ctx bounds its store lookups.
type authenticator struct {
	ctx     context.Context
	store   userLookups
	caKeys  []ssh.PublicKey
	checker *ssh.CertChecker
	log     *slog.Logger
	// maxTries caps the keys refused on one connection. x/crypto does not
	// count refused public-key queries (the client offering a key before
	// signing with it), so without this a client could try keys forever.
	maxTries int
	failures int // callbacks run one at a time, in the handshake goroutine
	// revocations, when set, refuses revoked certificates and keys.
	revocations Revocations
}

// userLookups are the reads that identify a key's or a certificate's user.
type userLookups interface {
	UserByKeyFingerprint(ctx context.Context, fp string) (acl.User, error)
	GetUser(ctx context.Context, name string) (acl.User, error)
}

func newCertChecker(cfg Config) *ssh.CertChecker {
	return &ssh.CertChecker{
		IsUserAuthority: func(auth ssh.PublicKey) bool {
			return isTrustedCA(cfg.UserCAKeys, auth)
		},
		SupportedCriticalOptions: []string{optSourceAddress, optForceCommand},
		Clock:                    cfg.Now,
	}
}

func isTrustedCA(cas []ssh.PublicKey, k ssh.PublicKey) bool {
	if k == nil {
		return false
	}
	m := k.Marshal()
	for _, ca := range cas {
		if bytes.Equal(ca.Marshal(), m) {
			return true
		}
	}
	return false
}

// publicKey is the ssh.ServerConfig.PublicKeyCallback: it says whether key
// could authenticate and, if so, whose it is. x/crypto also calls it for
// keys a client only offers, whether or not it holds them, so what it
// returns names no one yet: verifiedKey decides. The login name is the
// target workspace, not the identity, so it is not used here.
func (a *authenticator) publicKey(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if a.failures >= a.maxTries {
		return nil, errors.New("too many authentication failures")
	}
	perms, err := a.check(conn, key)
	if err == nil {
		perms, err = a.checkRevoked(perms)
	}
	if err != nil {
		a.failures++
	}
	return perms, err
}

// verifiedKey is the ssh.ServerConfig.VerifiedPublicKeyCallback. x/crypto
// calls it only once the client signed with key, handing over what
// publicKey returned for that very key; only then does the key's user
// become the connection's.
func verifiedKey(_ ssh.ConnMetadata, key ssh.PublicKey, perms *ssh.Permissions, _ string) (*ssh.Permissions, error) {
	if perms == nil {
		return nil, errors.New("no permissions for the verified key")
	}
	if perms.Extensions[extStoreUnavailable] != "" {
		return perms, nil // names no one; handle refuses it
	}
	id, err := parseIdentity(perms)
	if err != nil {
		return nil, err
	}
	// x/crypto pairs the permissions with the key; checking costs nothing
	// and keeps a mix-up from ever naming the wrong user.
	if fp := keyFingerprint(key); id.KeyFingerprint != fp {
		return nil, fmt.Errorf("verified key %s is not the key checked (%s)", fp, id.KeyFingerprint)
	}
	// Returned in place: x/crypto checks the certificate's source-address
	// again on the final permissions.
	perms.Extensions[extVerified] = "1"
	return perms, nil
}

// keyFingerprint is the fingerprint an identity records for key: that of
// the certified key for a certificate.
func keyFingerprint(key ssh.PublicKey) string {
	if cert, ok := key.(*ssh.Certificate); ok {
		return ssh.FingerprintSHA256(cert.Key)
	}
	return ssh.FingerprintSHA256(key)
}

func (a *authenticator) check(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if cert, ok := key.(*ssh.Certificate); ok {
		return a.certificate(conn, cert)
	}
	fp := ssh.FingerprintSHA256(key)
	u, err := a.store.UserByKeyFingerprint(a.ctx, fp)
	if err != nil {
		if !errors.Is(err, acl.ErrNotFound) {
			a.log.Warn("ssh key lookup failed", "fingerprint", fp, "err", err)
		}
		return nil, fmt.Errorf("unknown key %s", fp)
	}
	if u.Suspended {
		a.log.Info("ssh auth refused: user suspended", "user", u.Name, "fingerprint", fp)
		return nil, fmt.Errorf("user %q is suspended", u.Name)
	}
	return identity{Identity: acl.Identity{User: u.Name, KeyFingerprint: fp}}.permissions(nil), nil
}

// certificate accepts a user certificate signed by a trusted CA whose
// principal names an existing, active wsgate user.
func (a *authenticator) certificate(conn ssh.ConnMetadata, cert *ssh.Certificate) (*ssh.Permissions, error) {
	if len(a.caKeys) == 0 {
		return nil, errors.New("certificates are not accepted")
	}
	if cert.CertType != ssh.UserCert {
		return nil, fmt.Errorf("certificate has type %d, want a user certificate", cert.CertType)
	}
	if !isTrustedCA(a.caKeys, cert.SignatureKey) {
		a.log.Info("ssh auth refused: certificate from an untrusted CA",
			"ca", ssh.FingerprintSHA256(cert.SignatureKey), "key_id", cert.KeyId, "remote", conn.RemoteAddr().String())
		return nil, errors.New("certificate signed by an untrusted authority")
	}
	if len(cert.ValidPrincipals) == 0 || len(cert.ValidPrincipals) > maxCertPrincipals {
		return nil, fmt.Errorf("certificate has %d principals", len(cert.ValidPrincipals))
	}
	// CheckCert verifies the CA signature, the validity window and that no
	// unknown critical option is present; the principal it checks is one of
	// the cert's own, so only those checks can fail.
	if err := a.checker.CheckCert(cert.ValidPrincipals[0], cert); err != nil {
		a.log.Info("ssh auth refused: bad certificate", "key_id", cert.KeyId, "serial", cert.Serial, "err", err)
		return nil, err
	}
	var found []acl.User
	for _, p := range cert.ValidPrincipals {
		if acl.ValidateName("user", p) != nil {
			continue
		}
		u, err := a.store.GetUser(a.ctx, p)
		switch {
		case err == nil:
			if !containsUser(found, u.Name) {
				found = append(found, u)
			}
		case errors.Is(err, acl.ErrNotFound):
		default:
			a.log.Warn("ssh certificate user lookup failed", "principal", p, "err", err)
			return nil, fmt.Errorf("look up principal %q: %w", p, err)
		}
	}
	switch len(found) {
	case 0:
		a.log.Info("ssh auth refused: no certificate principal is a wsgate user", "key_id", cert.KeyId, "principals", cert.ValidPrincipals)
		return nil, errors.New("no certificate principal is a wsgate user")
	case 1:
	default:
		// A certificate must name one person; picking one would be a guess.
		a.log.Info("ssh auth refused: certificate names several wsgate users", "key_id", cert.KeyId, "principals", cert.ValidPrincipals)
		return nil, errors.New("certificate names several wsgate users")
	}
	u := found[0]
	if u.Suspended {
		a.log.Info("ssh auth refused: user suspended", "user", u.Name, "key_id", cert.KeyId)
		return nil, fmt.Errorf("user %q is suspended", u.Name)
	}
	id := identity{
		Identity: acl.Identity{
			User:           u.Name,
			KeyFingerprint: ssh.FingerprintSHA256(cert.Key),
			Cert:           true,
			CertSerial:     cert.Serial,
			CertKeyID:      cert.KeyId,
			Expires:        certExpiry(cert),
		},
		// OpenSSH semantics: a capability absent from the certificate's
		// extensions is not granted.
		NoPTY:          !hasExt(cert, "permit-pty"),
		NoPortForward:  !hasExt(cert, "permit-port-forwarding"),
		NoAgentForward: !hasExt(cert, "permit-agent-forwarding"),
	}
	id.ForceCommand, id.HasForce = cert.CriticalOptions[optForceCommand]
	// Returning the critical options makes x/crypto enforce source-address
	// against the connection's remote address before accepting the key.
	opts := make(map[string]string, len(cert.CriticalOptions))
	for k, v := range cert.CriticalOptions {
		opts[k] = v
	}
	return id.permissions(opts), nil
}

// certExpiry is the certificate's ValidBefore, zero for "forever".
func certExpiry(cert *ssh.Certificate) time.Time {
	if cert.ValidBefore == ssh.CertTimeInfinity || cert.ValidBefore > math.MaxInt64/uint64(time.Second) {
		return time.Time{}
	}
	return time.Unix(int64(cert.ValidBefore), 0)
}

func hasExt(cert *ssh.Certificate, name string) bool {
	_, ok := cert.Extensions[name]
	return ok
}

func containsUser(us []acl.User, name string) bool {
	for _, u := range us {
		if u.Name == name {
			return true
		}
	}
	return false
}
