package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
)

// ErrHTTPToTLS means a plain-HTTP request reached a port that serves TLS.
// Clients that recognise Go's answer to that mistake (IsHTTPToTLSAnswer)
// return it; Explain explains it.
var ErrHTTPToTLS = errors.New("client sent an HTTP request to an HTTPS server")

// goHTTPToTLSBody is what a Go server writes back, in plain HTTP, to a
// plain-HTTP request on its TLS port.
const goHTTPToTLSBody = "Client sent an HTTP request to an HTTPS server"

// IsHTTPToTLSAnswer reports whether an HTTP answer is a Go server's
// refusal of plain HTTP on its TLS port (400 with a fixed text).
func IsHTTPToTLSAnswer(status int, body []byte) bool {
	return status == http.StatusBadRequest && strings.HasPrefix(string(body), goHTTPToTLSBody)
}

// The advice Explain appends, one per problem.
const (
	hintUnknownAuthority = "the gateway's certificate is not signed by an authority this machine trusts: " +
		"pass --ca-file with the gateway's CA certificate (or set WSGATE_CA_FILE or SSL_CERT_FILE)"
	hintHostname = "the gateway's certificate is not issued for the host name in the URL: " + fixHostname
	fixHostname  = "use a URL with a name the certificate lists, or re-issue the gateway's certificate for this name"
	hintExpired  = "the gateway's certificate has expired or is not valid yet: " +
		"renew it on the gateway, or check this machine's clock"
	hintInvalid = "the gateway's certificate chain is not valid for a TLS server: " +
		"check the gateway's certificate and the CA passed with --ca-file"
	hintTLSToPlain = "the gateway's port does not speak TLS: check the URL's port, or serve TLS on the gateway " +
		"(an http:// URL sends the token in cleartext)"
	hintPlainToTLS = "the gateway serves HTTPS on this port: use an https:// URL"
)

// explained is an error with plain advice after it; it unwraps to the
// original, so errors.Is and errors.As keep working.
type explained struct {
	err  error
	hint string
}

func (e *explained) Error() string { return e.err.Error() + " — " + e.hint }
func (e *explained) Unwrap() error { return e.err }

// Explain returns err with plain advice appended when it is a certificate
// or TLS/plain-HTTP mismatch a user can fix: an unknown authority, a
// certificate for another host name, an expired (or not yet valid)
// certificate, TLS spoken to a plain-HTTP port, or plain HTTP sent to a TLS
// port. Other errors, nil, and errors already explained come back as they
// are.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	var done *explained
	if errors.As(err, &done) {
		return err
	}
	if k := classify(err); k != none {
		return &explained{err: err, hint: hint(err, k)}
	}
	return err
}

// IsConfigMismatch reports whether err is a TLS problem that retrying will
// not fix until this side's configuration changes: an untrusted
// certificate, one for another host name, or the wrong scheme for the port.
// An expired certificate is not one: the gateway may renew it.
func IsConfigMismatch(err error) bool {
	switch classify(err) {
	case unknownAuthority, hostname, tlsToPlain, plainToTLS:
		return true
	}
	return false
}

// kind is a problem Explain knows.
type kind int

const (
	none kind = iota
	unknownAuthority
	hostname
	expired
	invalid
	tlsToPlain
	plainToTLS
)

func hint(err error, k kind) string {
	switch k {
	case unknownAuthority:
		return hintUnknownAuthority
	case hostname:
		// Go's text names the certificate's names only for DNS names.
		var he x509.HostnameError
		if errors.As(err, &he) && he.Certificate != nil {
			if names := certNames(he.Certificate); names != "" {
				return "the gateway's certificate is issued for " + names + ", not " + he.Host + ": " + fixHostname
			}
		}
		return hintHostname
	case expired:
		return hintExpired
	case invalid:
		return hintInvalid
	case tlsToPlain:
		return hintTLSToPlain
	case plainToTLS:
		return hintPlainToTLS
	}
	return ""
}

// certNames lists the names and addresses a certificate is valid for.
func certNames(c *x509.Certificate) string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return strings.Join(names, ", ")
}

func classify(err error) kind {
	if err == nil {
		return none
	}
	var (
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		cie x509.CertificateInvalidError
		rhe tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &ua):
		return unknownAuthority
	case errors.As(err, &he):
		return hostname
	case errors.As(err, &cie) && cie.Reason == x509.Expired:
		return expired
	case errors.As(err, &cie):
		return invalid
	case errors.As(err, &rhe), errors.Is(err, http.ErrSchemeMismatch):
		return tlsToPlain
	case errors.Is(err, ErrHTTPToTLS), strings.Contains(err.Error(), goHTTPToTLSBody):
		// The text match catches the answer quoted inside another error
		// (the tunnel quotes the gateway's refusal).
		return plainToTLS
	}
	return none
}
