package httpapi

import (
	"net/http"
	"strconv"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// revokeCert revokes an SSH user certificate by serial, or a key with
// every certificate of it. Site admins only: a revocation can lock anyone
// out.
func (a *api) revokeCert(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "revoke certificates"); err != nil {
		return err
	}
	var req apitypes.RevokeCertRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	rc := acl.RevokedCert{Comment: req.Comment}
	set := 0
	if req.Serial != "" {
		set++
		n, err := strconv.ParseUint(req.Serial, 10, 64)
		if err != nil {
			return invalidField("serial", "serial must be a decimal number from 1 to %d", uint64(1<<64-1))
		}
		rc.Serial = n
	}
	if req.Key != "" {
		set++
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(req.Key))
		if err != nil {
			return invalidField("key", "key is not a public key or certificate in authorized_keys format: %v", err)
		}
		if c, ok := key.(*ssh.Certificate); ok {
			key = c.Key
		}
		rc.Fingerprint = ssh.FingerprintSHA256(key)
	}
	if req.Fingerprint != "" {
		set++
		rc.Fingerprint = req.Fingerprint
	}
	if set != 1 {
		return invalidField("serial", "give exactly one of serial, key or fingerprint")
	}
	if err := a.store.RevokeCert(r.Context(), rc); err != nil {
		return err
	}
	a.log.Info("ssh credential revoked", "by", caller.Name, "serial", rc.Serial, "fingerprint", rc.Fingerprint)
	list, err := a.store.ListRevokedCerts(r.Context())
	if err != nil {
		return err
	}
	for _, x := range list {
		if x.RevocationKey() == rc.RevocationKey() {
			rc = x
		}
	}
	writeJSON(w, http.StatusCreated, rc)
	return nil
}

func (a *api) listRevokedCerts(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "list revoked certificates"); err != nil {
		return err
	}
	list, err := a.store.ListRevokedCerts(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nonNil(list))
	return nil
}
