package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
	"golang.org/x/term"

	"github.com/wsgate/wsgate/gateway/apiclient"
)

// dialTimeout bounds the dial, TLS and upgrade of `wsgate ssh`.
const dialTimeout = 30 * time.Second

func newSSHCmd() *cobra.Command {
	var stdio, forceTTY, noTTY bool
	cmd := &cobra.Command{
		Use:   "ssh WORKSPACE [COMMAND...] | ssh --stdio HOST",
		Short: "Connect to a workspace over the gateway's HTTPS port, authenticated by your API token",
		Long: `Connect to a workspace through an HTTP Upgrade on the gateway's API port, for
networks where only HTTP(S) passes. You are the user of your API token
(wsgate login, or WSGATE_URL and WSGATE_TOKEN); no SSH key is needed.

  wsgate ssh alice-ws                 a shell (with a terminal when stdin is one)
  wsgate ssh alice/alice-ws make test run a command; its exit status is wsgate's

With --stdio, wsgate only carries the SSH connection between stdin/stdout and
the gateway, for OpenSSH's ProxyCommand; the SSH user name is the workspace:

  ssh -o ProxyCommand='wsgate ssh --stdio %h' alice-ws@gateway`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if forceTTY && noTTY {
				return errors.New("-t and -T exclude each other")
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			if stdio {
				if len(args) != 1 {
					return errors.New("--stdio takes exactly one argument, the host (ignored: the SSH user names the workspace)")
				}
				return runSSHStdio(cmd.Context(), c, cmd.InOrStdin(), cmd.OutOrStdout())
			}
			mode := ttyAuto
			switch {
			case forceTTY:
				mode = ttyForce
			case noTTY:
				mode = ttyNever
			}
			return runSSHSession(cmd.Context(), c, args[0], args[1:], mode)
		},
	}
	// Everything after the workspace belongs to the remote command.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().BoolVar(&stdio, "stdio", false, "carry one SSH connection over stdin/stdout (for ProxyCommand)")
	cmd.Flags().BoolVarP(&forceTTY, "tty", "t", false, "allocate a terminal even for a command")
	cmd.Flags().BoolVarP(&noTTY, "no-tty", "T", false, "never allocate a terminal")
	return cmd
}

// dialSSH opens the upgraded connection; refusals become readable errors.
func dialSSH(ctx context.Context, c *apiclient.Client) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := c.DialSSH(ctx)
	if err == nil {
		return conn, nil
	}
	if apiclient.StatusCode(err) == 401 {
		return nil, fmt.Errorf("ssh over %s: %w (log in again with `wsgate login` or check %s)", c.URL().Redacted(), err, envToken)
	}
	return nil, fmt.Errorf("ssh over %s: %w", c.URL().Redacted(), err)
}

// runSSHStdio copies stdin to the gateway and the gateway to stdout until
// the gateway closes the connection. EOF on stdin is passed on as a
// half-close.
func runSSHStdio(ctx context.Context, c *apiclient.Client, in io.Reader, out io.Writer) error {
	conn, err := dialSSH(ctx, c)
	if err != nil {
		return err
	}
	var once sync.Once
	closeConn := func() { once.Do(func() { _ = conn.Close() }) }
	defer closeConn()
	stop := context.AfterFunc(ctx, closeConn)
	defer stop()

	go func() {
		// Not waited for: a read of stdin cannot be interrupted, and the
		// process exits once the gateway's side is done.
		if _, err := io.Copy(conn, in); err != nil {
			closeConn()
			return
		}
		if hc, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = hc.CloseWrite()
		}
	}()
	_, err = io.Copy(out, conn)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("ssh over https: %w", err)
	}
	return nil
}

type ttyMode int

const (
	ttyAuto  ttyMode = iota // a terminal for a shell when stdin and stdout are terminals
	ttyForce                // -t
	ttyNever                // -T
)

// runSSHSession runs a shell or command in target over the upgraded
// connection and returns the remote exit status as an *exitError.
func runSSHSession(ctx context.Context, c *apiclient.Client, target string, command []string, mode ttyMode) error {
	conn, err := dialSSH(ctx, c)
	if err != nil {
		return err
	}
	var banner strings.Builder
	sc, chans, reqs, err := ssh.NewClientConn(conn, c.URL().Host, &ssh.ClientConfig{
		User: target,
		// The gateway refuses a target the user may not reach during
		// authentication, saying why in a banner.
		BannerCallback: func(msg string) error { banner.WriteString(msg); return nil },
		// The gateway accepts "none": the token in the upgrade already
		// said who we are. Its host key is not checked because TLS (for
		// https URLs) authenticated the gateway before the token was sent;
		// over plain http nothing could.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         dialTimeout,
	})
	if err != nil {
		_ = conn.Close()
		if banner.Len() > 0 {
			// As OpenSSH: the gateway's line, then exit status 255.
			fmt.Fprint(os.Stderr, banner.String())
			return &exitError{code: 255}
		}
		return fmt.Errorf("ssh handshake with the gateway: %w", err)
	}
	client := ssh.NewClient(sc, chans, reqs)
	defer client.Close()
	stop := context.AfterFunc(ctx, func() { _ = client.Close() })
	defer stop()

	sess, err := client.NewSession()
	if err != nil {
		return fmt.Errorf("open session: %w", err)
	}
	defer sess.Close()
	sess.Stdin, sess.Stdout, sess.Stderr = os.Stdin, os.Stdout, os.Stderr

	inFd, outFd := int(os.Stdin.Fd()), int(os.Stdout.Fd())
	usePTY := mode == ttyForce ||
		(mode == ttyAuto && len(command) == 0 && term.IsTerminal(inFd) && term.IsTerminal(outFd))
	if usePTY {
		restore, err := startTerminal(sess, inFd, outFd)
		if err != nil {
			return err
		}
		defer restore()
	}
	if len(command) == 0 {
		err = sess.Shell()
	} else {
		err = sess.Start(strings.Join(command, " "))
	}
	if err != nil {
		return fmt.Errorf("start remote program: %w", err)
	}
	return exitStatus(ctx, sess.Wait())
}

// startTerminal asks for a pty the size of the local one, puts the local
// terminal in raw mode and forwards its size changes. The returned func
// restores the terminal.
func startTerminal(sess *ssh.Session, inFd, outFd int) (func(), error) {
	w, h, err := term.GetSize(outFd)
	if err != nil {
		w, h = 80, 24
	}
	termName := os.Getenv("TERM")
	if termName == "" {
		termName = "xterm-256color"
	}
	modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400}
	if err := sess.RequestPty(termName, h, w, modes); err != nil {
		return nil, fmt.Errorf("request a terminal: %w", err)
	}
	stopWinch := watchWindow(func() {
		if w, h, err := term.GetSize(outFd); err == nil {
			_ = sess.WindowChange(h, w)
		}
	})
	if !term.IsTerminal(inFd) {
		return stopWinch, nil
	}
	state, err := term.MakeRaw(inFd)
	if err != nil {
		stopWinch()
		return nil, fmt.Errorf("raw terminal: %w", err)
	}
	return func() {
		stopWinch()
		_ = term.Restore(inFd, state)
	}, nil
}

// exitStatus maps the end of a remote program to wsgate's exit: its status,
// 128+n for a signal as shells report it, 255 when it ended without one
// (as OpenSSH does).
func exitStatus(ctx context.Context, err error) error {
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		if sig := ee.Signal(); sig != "" {
			fmt.Fprintf(os.Stderr, "wsgate: remote program killed by signal %s\n", sig)
			return &exitError{code: 128 + signalNumber(sig)}
		}
		return &exitError{code: ee.ExitStatus()}
	case errors.As(err, &missing):
		fmt.Fprintln(os.Stderr, "wsgate: remote program ended without an exit status")
		return &exitError{code: 255}
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("ssh session: %w", err)
}

// signalNumbers maps SSH signal names to their numbers, for 128+n.
var signalNumbers = map[string]int{
	string(ssh.SIGHUP): int(syscall.SIGHUP), string(ssh.SIGINT): int(syscall.SIGINT),
	string(ssh.SIGQUIT): int(syscall.SIGQUIT), string(ssh.SIGILL): int(syscall.SIGILL),
	string(ssh.SIGABRT): int(syscall.SIGABRT), string(ssh.SIGFPE): int(syscall.SIGFPE),
	string(ssh.SIGKILL): int(syscall.SIGKILL), string(ssh.SIGSEGV): int(syscall.SIGSEGV),
	string(ssh.SIGPIPE): int(syscall.SIGPIPE), string(ssh.SIGALRM): int(syscall.SIGALRM),
	string(ssh.SIGTERM): int(syscall.SIGTERM), string(ssh.SIGUSR1): int(syscall.SIGUSR1),
	string(ssh.SIGUSR2): int(syscall.SIGUSR2),
}

// signalNumber is the number of an SSH signal name ("TERM"); 127 for an
// unknown one, so that the exit is 255 like OpenSSH's.
func signalNumber(name string) int {
	if n, ok := signalNumbers[name]; ok {
		return n
	}
	return 127
}

// stdioProxyCommand is the ProxyCommand of `config-ssh --use-https`: this
// binary, by absolute path, as `wsgate ssh --stdio %h`.
func stdioProxyCommand() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the wsgate binary for ProxyCommand: %w", err)
	}
	return shellQuote(exe) + " ssh --stdio %h", nil
}

// shellQuote quotes s for the shell OpenSSH runs ProxyCommand with, unless
// it needs none; '%' is doubled because ssh expands %-tokens first.
func shellQuote(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
