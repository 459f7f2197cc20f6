package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

func TestRevokeCerts(t *testing.T) {
	e := shareEnv(t)
	path := apitypes.RevokedCertsPath
	e.expect(http.StatusForbidden, "alice", "POST", path, apitypes.RevokeCertRequest{Serial: "7"})
	e.expect(http.StatusForbidden, "alice", "GET", path, nil)

	var rc apitypes.RevokedCert
	e.expect(http.StatusCreated, "root", "POST", path, apitypes.RevokeCertRequest{Serial: "18446744073709551615", Comment: "lost"}).json(t, &rc)
	if rc.Serial != 1<<64-1 || rc.RevokedBy != "root" || rc.RevokedAt.IsZero() || rc.Comment != "lost" {
		t.Fatalf("revoked %+v", rc)
	}
	e.expect(http.StatusConflict, "root", "POST", path, apitypes.RevokeCertRequest{Serial: "18446744073709551615"})

	pub, _, err := ed25519.GenerateKey(rand.Reader)
	e.must(err)
	key, err := ssh.NewPublicKey(pub)
	e.must(err)
	e.expect(http.StatusCreated, "root", "POST", path, apitypes.RevokeCertRequest{Key: string(ssh.MarshalAuthorizedKey(key))}).json(t, &rc)
	if rc.Fingerprint != ssh.FingerprintSHA256(key) {
		t.Fatalf("revoked key %+v, want %s", rc, ssh.FingerprintSHA256(key))
	}
	for _, bad := range []apitypes.RevokeCertRequest{
		{}, {Serial: "0"}, {Serial: "-1"}, {Serial: "x"}, {Key: "ssh-ed25519 AAAA"},
		{Serial: "5", Fingerprint: "SHA256:abc"}, {Fingerprint: "MD5:aa"},
	} {
		e.expect(http.StatusBadRequest, "root", "POST", path, bad)
	}
	var list []apitypes.RevokedCert
	e.expect(http.StatusOK, "root", "GET", path, nil).json(t, &list)
	// The test clock stands still: same time, then ordered by key.
	if len(list) != 2 || list[0].Fingerprint != ssh.FingerprintSHA256(key) || list[1].Serial != 1<<64-1 {
		t.Fatalf("list %+v", list)
	}
}
