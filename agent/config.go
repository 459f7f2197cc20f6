package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
)

// Config configures an Agent.
type Config struct {
	Workspace string // "owner/name", exported to sessions as WSGATE_WORKSPACE (not set when empty)
	Dir       string // start directory of shells and exec, made absolute; created (0755) if missing; default: home
	Shell     string // default: $SHELL if set and executable, else /bin/bash if present, else /bin/sh (with RunAs: that user's login shell)
	Logger    *slog.Logger
	// RuntimeDir is the sessions' XDG_RUNTIME_DIR and TMUX_TMPDIR; default:
	// a 0700 directory of this workspace's own (rundir.go).
	RuntimeDir string
	// KeepProcesses keeps the processes of users whose access ended
	// (--on-revoke keep-processes); by default the gateway's end-users
	// request ends them.
	KeepProcesses bool
	// RotateKey, when set, replaces the agent's key when the gateway asks
	// (control.OpRotateKey) and returns the new public key
	// (authorized_keys format); see agent/agentkey.
	RotateKey func() (string, error)

	// forceSubreaper tracks processes as a subreaper even where a cgroup
	// is writable (tests).
	forceSubreaper bool

	// RunAs is the OS user that sessions, SFTP, Unix-socket dials, -R
	// listeners and the forwarded-agent socket run as; "" is the agent's
	// own user. Another user than the agent's needs the agent to run as
	// root. TCP dials (-L, the app proxy) stay in the agent: they touch no
	// file system permission.
	RunAs string
	// SFTPCommand is the argv of a program that serves SFTP on its stdin
	// and stdout in its working directory (`wsgate agent sftp-server`, see
	// ServeSFTP); it runs like a session's command, as RunAs. Empty: SFTP
	// is served inside the agent, which is refused when RunAs is another
	// user (it would run as the agent's user).
	SFTPCommand []string
	// Home is the sessions' home: their HOME, what `~` means in SFTP
	// paths, and where SFTP's relative paths start (as with sshd, so that
	// `scp f host:~/x`, whose ~/ OpenSSH's scp strips, lands where `scp -O`
	// puts it). Default: the OS user's home directory, else Dir.
	Home string
}

// withDefaults fills unset fields and validates the result. It creates Dir.
func (c Config) withDefaults() (Config, osUser, error) {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	u, err := lookupOSUser(c.RunAs)
	if err != nil {
		return c, u, fmt.Errorf("agent config: %w", err)
	}
	if u.separate() && len(c.SFTPCommand) == 0 {
		return c, u, errors.New("agent config: sessions as another user need SFTPCommand (SFTP must not run as the agent's user)")
	}
	if c.Dir == "" {
		c.Dir = u.home
	}
	if c.Dir == "" {
		return c, u, errors.New("agent config: no start directory and no home directory")
	}
	// Absolute: a relative Dir would be resolved against the agent's own
	// working directory by some consumers and the session's by others.
	if c.Dir, err = filepath.Abs(c.Dir); err != nil {
		return c, u, fmt.Errorf("agent config: start directory: %w", err)
	}
	if c.Home == "" {
		c.Home = u.home
	}
	if c.Home == "" {
		c.Home = c.Dir
	}
	if c.Home, err = filepath.Abs(c.Home); err != nil {
		return c, u, fmt.Errorf("agent config: home directory: %w", err)
	}
	u.home = c.Home
	// Created as the session user: it is theirs, and root creates nothing
	// where they could not.
	if err := asUser(u, func() error { return os.MkdirAll(c.Dir, 0o755) }); err != nil {
		return c, u, fmt.Errorf("agent config: create start directory: %w", err)
	}
	// The runtime directory is the session user's, made as that user.
	uid := os.Getuid()
	if u.separate() {
		uid = int(u.cred.Uid)
	}
	err = asUser(u, func() error {
		if c.RuntimeDir != "" {
			return privateDir(c.RuntimeDir, uid)
		}
		rd, err := defaultRuntimeDir(c.Workspace, c.Dir, uid, !u.separate())
		c.RuntimeDir = rd
		return err
	})
	if err != nil {
		return c, u, fmt.Errorf("agent config: %w", err)
	}
	if c.Shell != "" {
		if !executable(c.Shell) {
			return c, u, fmt.Errorf("agent config: shell %q is not an executable file", c.Shell)
		}
		return c, u, nil
	}
	c.Shell = defaultShell(u)
	return c, u, nil
}

// defaultShell is the agent's $SHELL for its own sessions, the login shell
// of the run-as user for theirs (the agent's $SHELL is root's then).
func defaultShell(u osUser) string {
	s := os.Getenv("SHELL")
	if u.separate() {
		s = u.shell
	}
	if s != "" && executable(s) {
		return s
	}
	if executable("/bin/bash") {
		return "/bin/bash"
	}
	return "/bin/sh"
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	_, err = exec.LookPath(path)
	return err == nil
}
