package storekit

import "github.com/wsgate/wsgate/acl"

// SecretLen is the length of every secret Store.Secret makes.
const SecretLen = 32

// CheckSecretName refuses a secret name that ValidateName refuses.
func CheckSecretName(name string) error {
	if err := acl.ValidateName("secret", name); err != nil {
		return acl.Invalid("name", "%v", err)
	}
	return nil
}
