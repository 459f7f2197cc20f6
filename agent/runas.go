package agent

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// osUser is the identity everything done on a user's behalf runs as:
// sessions, SFTP, Unix-socket dials, -R listeners, the forwarded-agent
// socket. cred is nil when that is the agent's own identity (no switch).
type osUser struct {
	name  string
	home  string
	shell string // login shell from the passwd entry; "" when unknown
	cred  *syscall.Credential
}

// separate reports whether sessions run as another OS user than the agent.
func (u osUser) separate() bool { return u.cred != nil }

// errRunAsNeedsRoot refuses a RunAs user other than the agent's own when
// the agent cannot switch identities.
var errRunAsNeedsRoot = errors.New("running sessions as another user needs the agent to run as root")

// lookupOSUser resolves name ("" = the agent's own user) to the identity
// sessions run as, with the uid, gid and supplementary groups from the
// user database.
func lookupOSUser(name string) (osUser, error) {
	if name == "" {
		return currentUser(), nil
	}
	pw, err := user.Lookup(name)
	if err != nil {
		return osUser{}, fmt.Errorf("run-as user: %w", err)
	}
	uid, err1 := strconv.ParseUint(pw.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(pw.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return osUser{}, fmt.Errorf("run-as user %s: non-numeric uid %q or gid %q", name, pw.Uid, pw.Gid)
	}
	u := osUser{name: pw.Username, home: pw.HomeDir, shell: passwdShell(pw.Username)}
	if int(uid) == os.Geteuid() && int(gid) == os.Getegid() {
		return u, nil // the agent's own identity: nothing to switch
	}
	if os.Geteuid() != 0 {
		return osUser{}, fmt.Errorf("run-as user %s: %w", name, errRunAsNeedsRoot)
	}
	gids, err := pw.GroupIds()
	if err != nil {
		return osUser{}, fmt.Errorf("run-as user %s: supplementary groups: %w", name, err)
	}
	groups := make([]uint32, 0, len(gids))
	for _, g := range gids {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return osUser{}, fmt.Errorf("run-as user %s: non-numeric group id %q", name, g)
		}
		groups = append(groups, uint32(n))
	}
	u.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}
	return u, nil
}

func currentUser() osUser {
	u := osUser{name: os.Getenv("USER"), home: os.Getenv("HOME")}
	if cur, err := user.Current(); err == nil {
		u.name = cur.Username
		if cur.HomeDir != "" {
			u.home = cur.HomeDir
		}
	}
	return u
}

// setCredential makes cmd start as u: uid, gid and supplementary groups
// (SysProcAttr.Credential). It is the one place a session's process gets
// its identity; call it after SysProcAttr is set.
func (u osUser) setCredential(cmd *exec.Cmd) {
	if u.cred == nil {
		return
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	c := *u.cred
	c.Groups = append([]uint32(nil), u.cred.Groups...)
	cmd.SysProcAttr.Credential = &c
}

// ownTerminal gives the session's terminal to u, as sshd does (owner u,
// group tty, mode 0620), so programs that open it by name (tty, mesg,
// script) work for the user.
func (u osUser) ownTerminal(tty *os.File) error {
	if u.cred == nil {
		return nil
	}
	gid := int(u.cred.Gid)
	if g, err := user.LookupGroup("tty"); err == nil {
		if n, err := strconv.Atoi(g.Gid); err == nil {
			gid = n
		}
	}
	if err := tty.Chown(int(u.cred.Uid), gid); err != nil {
		return fmt.Errorf("chown terminal: %w", err)
	}
	if err := tty.Chmod(0o620); err != nil {
		return fmt.Errorf("chmod terminal: %w", err)
	}
	return nil
}

// passwdShell is name's login shell from /etc/passwd (os/user does not
// report it); "" when there is none.
func passwdShell(name string) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) == 7 && fields[0] == name {
			return fields[6]
		}
	}
	return ""
}
