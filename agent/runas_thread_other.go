//go:build !(linux && (amd64 || arm64 || riscv64 || ppc64le || ppc64 || s390x || loong64 || mips64 || mips64le))

package agent

import "errors"

// asUser runs fn as u. Switching one thread's identity is implemented for
// 64-bit Linux only; elsewhere only the agent's own identity works.
func asUser(u osUser, fn func() error) error {
	if u.cred != nil {
		return errors.New("socket operations as another user are not supported on this platform")
	}
	return fn()
}
