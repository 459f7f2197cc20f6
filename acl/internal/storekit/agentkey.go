package storekit

import (
	"slices"
	"strings"

	"github.com/wsgate/wsgate/acl"
)

// MaxAgentKeyLen bounds a pinned agent key (an ed25519 key in
// authorized_keys format is about 80 bytes).
const MaxAgentKeyLen = 2048

// CheckAgentKey refuses a public key that is not one printable
// authorized_keys line ("type base64", no comment).
func CheckAgentKey(key string) error {
	typ, blob, ok := strings.Cut(key, " ")
	if !ok || typ == "" || blob == "" || len(key) > MaxAgentKeyLen || strings.ContainsAny(blob, " \t") {
		return acl.Invalid("public_key", "public key: want one authorized_keys line without comment")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < ' ' || key[i] > '~' {
			return acl.Invalid("public_key", "public key: not printable")
		}
	}
	return nil
}

// CheckAgentKeyOrEmpty is CheckAgentKey that also takes "" (none).
func CheckAgentKeyOrEmpty(key string) error {
	if key == "" {
		return nil
	}
	return CheckAgentKey(key)
}

// AddExposed returns users with user added, sorted, and whether it was new.
func AddExposed(users []string, user string) ([]string, bool) {
	i, found := slices.BinarySearch(users, user)
	if found {
		return users, false
	}
	return slices.Insert(users, i, user), true
}

// CheckReplaceAgentKey checks the arguments of acl.Store.ReplaceAgentKey
// and returns exposed as an ExposedSet.
func CheckReplaceAgentKey(uid, next string, exposed []string) ([]string, error) {
	if err := LookupUID(uid); err != nil {
		return nil, err
	}
	if err := CheckAgentKeyOrEmpty(next); err != nil {
		return nil, err
	}
	for _, u := range exposed {
		if err := LookupName("user", u); err != nil {
			return nil, err
		}
	}
	return ExposedSet(exposed), nil
}

// ExposedSet returns users sorted and deduplicated; nil when empty.
func ExposedSet(users []string) []string {
	var out []string
	for _, u := range users {
		out, _ = AddExposed(out, u)
	}
	return out
}
