package testutil

import (
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"testing"
)

// OSUser returns the OS user name, creating it (with a home directory) if
// it does not exist. Creating users needs root: the test is skipped when
// not root, except under CI=true, which runs as root. Tests in several
// packages may create the same user at once; whoever loses the race finds
// it made.
func OSUser(t testing.TB, name string) *user.User {
	t.Helper()
	if u, err := user.Lookup(name); err == nil {
		return u
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("creating OS user %s needs root, and CI runs as root", name)
		}
		t.Skipf("creating OS user %s needs root", name)
	}
	out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/sh", name).CombinedOutput()
	u, lerr := user.Lookup(name)
	if lerr != nil {
		t.Fatalf("useradd %s: %v: %s (lookup: %v)", name, err, out, lerr)
	}
	return u
}

// IDs returns u's uid and gid as numbers.
func IDs(t testing.TB, u *user.User) (uid, gid int) {
	t.Helper()
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		t.Fatalf("user %s: uid %q gid %q", u.Username, u.Uid, u.Gid)
	}
	return uid, gid
}
