package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/agent"
)

// resolveRunAs decides whom sessions run as. A non-root agent runs them as
// itself (--run-as may only name that user; the agent package checks). A
// root agent uses --run-as, else the owner of --dir; it refuses to run
// sessions as root unless told so with --run-as root, because that makes
// every collaborator root on the host.
func resolveRunAs(flag, dir string) (string, error) {
	if flag != "" || os.Geteuid() != 0 {
		return flag, nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("the agent runs as root and --run-as is not set, so sessions would run as the owner of --dir: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return "", fmt.Errorf("refusing to run sessions as root: the agent runs as root and --dir %s is owned by root; "+
			"pass --run-as USER (the developer whose workspace this is), or --run-as root if collaborators may be root on this host", dir)
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(st.Uid), 10))
	if err != nil {
		return "", fmt.Errorf("owner of --dir %s (uid %d): %w; pass --run-as USER", dir, st.Uid, err)
	}
	return u.Username, nil
}

// runAsUID is the uid of name ("" = this process's).
func runAsUID(name string) (int, error) {
	if name == "" {
		return os.Geteuid(), nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, fmt.Errorf("--run-as: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return 0, fmt.Errorf("--run-as %s: uid %q: %w", name, u.Uid, err)
	}
	return uid, nil
}

// newAgentSFTPServerCmd is the hidden `wsgate agent sftp-server`: the
// agent runs it as the session's user for the sftp subsystem, serving SFTP
// on stdin and stdout from its working directory.
func newAgentSFTPServerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "sftp-server",
		Short:  "Serve SFTP on stdin/stdout (run by the agent for a session)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := os.Getwd()
			if err != nil {
				return err
			}
			err = agent.ServeSFTP(os.Stdin, os.Stdout, dir)
			if errors.Is(err, os.ErrClosed) {
				return nil
			}
			return err
		},
	}
}
