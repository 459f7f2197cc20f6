package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// envAgentToken is the variable the agent token may come from (bindEnvPrefix
// of the --token flag).
const envAgentToken = "WSGATE_AGENT_TOKEN"

// readTokenFile reads the agent token from path, refusing a file that its
// group or others may read or write, as ssh refuses a private key with
// loose modes.
func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("token file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("token file %s is accessible by others (mode %04o): it must be readable only by its owner (chmod 600)", path, perm)
	}
	return readToken(f, path)
}

func readToken(r io.Reader, name string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read token from %s: %w", name, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("token from %s is empty", name)
	}
	return tok, nil
}

// readTokenFD reads the token the agent handed itself across its re-exec
// (see reexecWithoutSecret) and closes the descriptor.
func readTokenFD(fd int) (string, error) {
	f := os.NewFile(uintptr(fd), "token-fd")
	if f == nil {
		return "", fmt.Errorf("--token-fd %d: not a descriptor", fd)
	}
	defer f.Close()
	return readToken(f, "--token-fd")
}

// checkTokenFileOwner refuses a token file owned by the user sessions run
// as (when that is not the agent's own user): they could read it.
func checkTokenFileOwner(path string, sessionUID int) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) == sessionUID && sessionUID != os.Geteuid() {
		return fmt.Errorf("token file %s is owned by the user sessions run as, who could read it: make it the agent's (chown root, chmod 600)", path)
	}
	return nil
}

// reexecWithoutSecret replaces this process (same pid) with the agent
// again, without the token in its environment or arguments: the kernel
// keeps showing a process's initial environment and argv in
// /proc/<pid>/environ and /proc/<pid>/cmdline, and unsetting or
// overwriting them in memory changes neither. The token crosses exec in a
// pipe whose read end the new image gets as --token-fd. It returns only
// on failure.
func reexecWithoutSecret(cmd *cobra.Command, token string) error {
	var p [2]int
	if err := unix.Pipe2(p[:], 0); err != nil { // not close-on-exec: the new image reads it
		return fmt.Errorf("token pipe: %w", err)
	}
	_, werr := unix.Write(p[1], []byte(token))
	_ = unix.Close(p[1])
	if werr != nil {
		_ = unix.Close(p[0])
		return fmt.Errorf("token pipe: %w", werr)
	}
	argv := append(strings.Fields(cmd.CommandPath()), "--token-fd="+strconv.Itoa(p[0]))
	argv[0] = os.Args[0]
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name != "token" && f.Name != "token-fd" {
			argv = append(argv, "--"+f.Name+"="+f.Value.String())
		}
	})
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envAgentToken+"=") {
			env = append(env, kv)
		}
	}
	err := syscall.Exec(selfExe, argv, env)
	_ = unix.Close(p[0])
	return fmt.Errorf("re-exec the agent without its token in the environment: %w", err)
}

// agentToken decides where the token comes from: at most one of --token
// (or WSGATE_AGENT_TOKEN), --token-file and --token-fd. A token in the
// environment or on the command line is moved out of both by re-executing
// (which does not return); reexec is false only in the re-executed agent.
func agentToken(cmd *cobra.Command, token, tokenFile string, tokenFD int, log *slog.Logger) (string, error) {
	given := 0
	for _, set := range []bool{token != "", tokenFile != "", tokenFD >= 0} {
		if set {
			given++
		}
	}
	switch {
	case given > 1:
		return "", errors.New("give the agent token once: --token (or WSGATE_AGENT_TOKEN), --token-file, or --token-fd")
	case tokenFD >= 0:
		return readTokenFD(tokenFD)
	case tokenFile != "":
		return readTokenFile(tokenFile)
	case token == "":
		return "", nil
	}
	if cmd.Flags().Changed("token") {
		log.Warn("the agent token was given with --token: every user of this host can read the command line in /proc while the agent starts; use --token-file")
	}
	return "", reexecWithoutSecret(cmd, token)
}
