package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
)

// Config configures an Agent.
type Config struct {
	Workspace string // "owner/name", exported to sessions as WSGATE_WORKSPACE (not set when empty)
	Dir       string // start directory of shells and exec; created (0755) if missing; default: home
	Shell     string // default: $SHELL if set and executable, else /bin/bash if present, else /bin/sh
	Logger    *slog.Logger
	// RotateKey, when set, replaces the agent's key when the gateway asks
	// (control.OpRotateKey) and returns the new public key
	// (authorized_keys format); see agent/agentkey.
	RotateKey func() (string, error)
}

// osUser is the identity every session runs as: the agent's own.
type osUser struct {
	name string
	home string
}

// withDefaults fills unset fields and validates the result. It creates Dir.
func (c Config) withDefaults() (Config, osUser, error) {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	u := currentUser()
	if c.Dir == "" {
		c.Dir = u.home
	}
	if c.Dir == "" {
		return c, u, errors.New("agent config: no start directory and no home directory")
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return c, u, fmt.Errorf("agent config: create start directory: %w", err)
	}
	if c.Shell != "" {
		if !executable(c.Shell) {
			return c, u, fmt.Errorf("agent config: shell %q is not an executable file", c.Shell)
		}
		return c, u, nil
	}
	c.Shell = defaultShell()
	return c, u, nil
}

func defaultShell() string {
	if s := os.Getenv("SHELL"); s != "" && executable(s) {
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
