package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Each workspace's sessions get their own runtime directory, exported as
// XDG_RUNTIME_DIR and TMUX_TMPDIR: tmux's default socket lives there, so
// a tmux session is shared by everyone in the workspace and by no other
// workspace of the same OS user on the host. It is a 0700 directory
// outside the workspace's files: $XDG_RUNTIME_DIR/wsgate/<name> when the
// agent has an XDG_RUNTIME_DIR, else <tmp>/wsgate-<uid>/<name>, where
// <name> is derived from the workspace name and the start directory, which
// stay the same across agent restarts.

// defaultRuntimeDir creates (or checks) the runtime directory of the
// workspace served from dir, for sessions running as uid: call it as that
// user (asUser). The agent's own XDG_RUNTIME_DIR is used only when the
// sessions run as the agent's user.
func defaultRuntimeDir(workspace, dir string, uid int, ownUser bool) (string, error) {
	base := ""
	if x := os.Getenv("XDG_RUNTIME_DIR"); ownUser && x != "" && filepath.IsAbs(x) {
		if fi, err := os.Stat(x); err == nil && fi.IsDir() {
			base = filepath.Join(x, "wsgate")
		}
	}
	if base == "" {
		base = filepath.Join(os.TempDir(), fmt.Sprintf("wsgate-%d", uid))
	}
	if err := privateDir(base, uid); err != nil {
		return "", err
	}
	p := filepath.Join(base, runtimeDirName(workspace, dir))
	if err := privateDir(p, uid); err != nil {
		return "", err
	}
	return p, nil
}

// runtimeDirName is a readable, stable, file-name-safe name for the
// workspace: its name (when the agent knows it) and a hash of it and the
// absolute start directory.
func runtimeDirName(workspace, dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(workspace + "\x00" + abs))
	slug := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, workspace)
	if len(slug) > 40 {
		slug = slug[:40]
	}
	if slug == "" {
		slug = "ws"
	}
	return slug + "-" + hex.EncodeToString(sum[:8])
}

// privateDir makes p a directory of uid with mode 0700, refusing one that
// is a symlink or belongs to someone else (in a shared /tmp another user
// could have made it first).
func privateDir(p string, uid int) error {
	if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("runtime directory: %w", err)
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("runtime directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("runtime directory %s: not a directory", p)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid {
		return fmt.Errorf("runtime directory %s: owned by uid %d, not by this user", p, st.Uid)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(p, 0o700); err != nil {
			return fmt.Errorf("runtime directory: %w", err)
		}
	}
	return nil
}
