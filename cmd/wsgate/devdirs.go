package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
)

// devWorkspacesDir is where `wsgate dev` keeps the workspaces' files: the
// flag's value, or DATA_DIR-workspaces next to the data dir. Never inside
// the data dir, where every user's token lies: a collaborator's `cat
// ../../admin.token` must not find it. A data dir of the old layout
// (DATA_DIR/workspaces) has its workspaces moved out once.
func devWorkspacesDir(dataDir, flag string, log *slog.Logger) (string, error) {
	ws := flag
	if ws == "" {
		ws = filepath.Join(filepath.Dir(dataDir), filepath.Base(dataDir)+"-workspaces")
	}
	ws, err := filepath.Abs(ws)
	if err != nil {
		return "", err
	}
	if within(ws, dataDir) || within(dataDir, ws) {
		return "", fmt.Errorf("--workspaces-dir %s must be outside --data-dir %s (and not contain it): the data dir holds every user's token", ws, dataDir)
	}
	old := filepath.Join(dataDir, "workspaces")
	if _, err := os.Stat(old); err == nil {
		if _, err := os.Stat(ws); errors.Is(err, os.ErrNotExist) {
			if err := os.Rename(old, ws); err != nil {
				return "", fmt.Errorf("move workspaces out of the data dir: %w", err)
			}
			log.Info("moved the workspaces out of the data dir", "from", old, "to", ws)
		}
	}
	if err := os.MkdirAll(ws, 0o700); err != nil {
		return "", fmt.Errorf("workspaces dir: %w", err)
	}
	return ws, nil
}

// within reports whether path is dir or below it (both absolute, clean).
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// osUserName names the OS user this process runs as, for the banner.
func osUserName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return fmt.Sprintf("uid %d", os.Getuid())
}
