package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// reservedUserNames cannot be user names because paths use them as aliases.
var reservedUserNames = map[string]bool{"me": true}

func (a *api) createUser(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "create users"); err != nil {
		return err
	}
	var req apitypes.CreateUserRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	var vs []apitypes.Validation
	if err := acl.ValidateName("user", req.Name); err != nil {
		vs = append(vs, apitypes.Validation{Field: "name", Detail: err.Error()})
	} else if reservedUserNames[req.Name] {
		vs = append(vs, apitypes.Validation{Field: "name", Detail: fmt.Sprintf("user name %q is reserved", req.Name)})
	}
	keys := make([]acl.PublicKey, 0, len(req.Keys))
	for i, k := range req.Keys {
		pk, err := parseAuthorizedKey(k)
		if err != nil {
			vs = append(vs, apitypes.Validation{Field: fmt.Sprintf("keys[%d]", i), Detail: err.Error()})
			continue
		}
		pk.AddedAt = a.now()
		keys = append(keys, pk)
	}
	if req.Org != "" {
		v, err := a.checkOrg(r, "org", req.Org)
		if err != nil {
			return err
		}
		vs = append(vs, v...)
	}
	if len(vs) > 0 {
		return invalid(vs...)
	}
	u := acl.User{
		Name:        req.Name,
		DisplayName: req.DisplayName,
		Org:         req.Org,
		SiteAdmin:   req.SiteAdmin,
		Keys:        keys,
		CreatedAt:   a.now(),
	}
	if err := a.store.CreateUser(r.Context(), u); err != nil {
		return err
	}
	created, err := a.store.GetUser(r.Context(), u.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, created)
	return nil
}

// checkOrg returns a validation naming field when the org does not exist.
func (a *api) checkOrg(r *http.Request, field, org string) ([]apitypes.Validation, error) {
	_, err := a.store.GetOrg(r.Context(), org)
	if errors.Is(err, acl.ErrNotFound) {
		return []apitypes.Validation{{Field: field, Detail: fmt.Sprintf("org %q not found", org)}}, nil
	}
	return nil, err
}

func (a *api) listUsers(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "list users"); err != nil {
		return err
	}
	users, err := a.store.ListUsers(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nonNil(users))
	return nil
}

func (a *api) getUser(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	name := userParam(r, caller, "user")
	if err := requireSelfOrSiteAdmin(caller, name, "read the accounts"); err != nil {
		return err
	}
	u, err := a.store.GetUser(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (a *api) updateUser(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "change users"); err != nil {
		return err
	}
	name := userParam(r, caller, "user")
	var req apitypes.UpdateUserRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.SiteAdmin == nil {
		return errorf(http.StatusBadRequest, "nothing to change: expected site_admin")
	}
	if name == caller.Name && !*req.SiteAdmin {
		return invalidField("site_admin", "you cannot revoke your own site admin role")
	}
	if err := a.store.SetUserSiteAdmin(r.Context(), name, *req.SiteAdmin); err != nil {
		return err
	}
	return a.writeUser(w, r, name)
}

func (a *api) writeUser(w http.ResponseWriter, r *http.Request, name string) error {
	u, err := a.store.GetUser(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (a *api) suspendUser(suspend bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, caller acl.User) error {
		verb := "suspend"
		if !suspend {
			verb = "unsuspend"
		}
		if err := requireSiteAdmin(caller, verb+" users"); err != nil {
			return err
		}
		name := userParam(r, caller, "user")
		if name == caller.Name {
			return invalidField("user", "you cannot %s yourself", verb)
		}
		if err := a.store.SetUserSuspended(r.Context(), name, suspend); err != nil {
			return err
		}
		return a.writeUser(w, r, name)
	}
}

func (a *api) deleteUser(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "delete users"); err != nil {
		return err
	}
	name := userParam(r, caller, "user")
	if name == caller.Name {
		return invalidField("user", "you cannot delete yourself")
	}
	if to := r.URL.Query().Get(apitypes.DeleteUserTransferParam); to != "" {
		if err := a.transferAll(r.Context(), name, to); err != nil {
			return err
		}
	}
	if err := a.store.DeleteUser(r.Context(), name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) listKeys(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	name := userParam(r, caller, "user")
	if err := requireSelfOrSiteAdmin(caller, name, "read the keys"); err != nil {
		return err
	}
	u, err := a.store.GetUser(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nonNil(u.Keys))
	return nil
}

func (a *api) addKey(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	name := userParam(r, caller, "user")
	if err := requireSelfOrSiteAdmin(caller, name, "change the keys"); err != nil {
		return err
	}
	var req apitypes.AddKeyRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	pk, err := parseAuthorizedKey(req.AuthorizedKey)
	if err != nil {
		return invalidField("authorized_key", "%v", err)
	}
	if proofRequired(caller, name) {
		if err := a.checkKeyProof(r.Context(), name, pk, req); err != nil {
			return err
		}
	}
	pk.AddedAt = a.now()
	if err := a.store.AddUserKey(r.Context(), name, pk); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, pk)
	return nil
}

func (a *api) removeKey(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	name := userParam(r, caller, "user")
	if err := requireSelfOrSiteAdmin(caller, name, "change the keys"); err != nil {
		return err
	}
	if err := a.store.RemoveUserKey(r.Context(), name, r.PathValue("fingerprint")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// parseAuthorizedKey reads one authorized_keys line (options are refused:
// the gateway decides what a key may do).
func parseAuthorizedKey(line string) (acl.PublicKey, error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return acl.PublicKey{}, errors.New("SSH public key is empty")
	}
	key, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return acl.PublicKey{}, fmt.Errorf("invalid SSH public key: %v", err)
	}
	if len(options) > 0 {
		return acl.PublicKey{}, errors.New("invalid SSH public key: authorized_keys options are not accepted")
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return acl.PublicKey{}, errors.New("invalid SSH public key: expected exactly one key")
	}
	if _, ok := key.(*ssh.Certificate); ok {
		return acl.PublicKey{}, errors.New("invalid SSH public key: certificates are not keys; configure the user CA instead")
	}
	return acl.PublicKey{
		Fingerprint:   ssh.FingerprintSHA256(key),
		AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))),
		Comment:       comment,
	}, nil
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
