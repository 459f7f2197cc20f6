package gateway

import (
	"strings"

	"golang.org/x/crypto/ssh"
)

// hostKeyLines is the SSH host key in authorized_keys form, as the API
// serves it for clients' known_hosts files.
func hostKeyLines(s ssh.Signer) []string {
	if s == nil {
		return nil
	}
	return []string{strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))}
}
