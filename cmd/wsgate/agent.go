package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/agent"
	"github.com/wsgate/wsgate/internal/tlsconf"
	"github.com/wsgate/wsgate/tunnel"
)

func newAgentCmd() *cobra.Command {
	var (
		gatewayURL, token, tokenFile, dir, shell, workspace, caFile, runAs, onRevoke, stateDir string
		tokenFD                                                                                int
		insecurePlaintext                                                                      bool
	)
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the workspace agent: dial the gateway and serve SSH for this workspace",
		Long: `Run inside a workspace. The agent dials the gateway's HTTP port, upgrades the
connection to a multiplexed tunnel and serves SSH sessions, SFTP, port forwards
and app traffic over it. It reconnects with backoff when the gateway goes away.

Every flag can also be set as WSGATE_AGENT_<FLAG>, e.g. WSGATE_AGENT_URL and
WSGATE_AGENT_TOKEN_FILE; --ca-file also as WSGATE_CA_FILE, like the CLI.

Give the agent token in a file (--token-file, readable only by its owner:
a file others may read is refused). A token from WSGATE_AGENT_TOKEN or
--token makes the agent re-execute itself at once without it, since the
kernel shows a process's initial environment and command line in /proc;
--token also warns, as the command line is visible while it starts. The
agent marks itself non-dumpable, so processes of its own OS user cannot
read its memory.

Run the agent as root with --run-as USER (the recommended setup): shells,
commands, SFTP, Unix-socket forwards, -R listeners and the forwarded-agent
socket then run as USER, who cannot read the agent's token file or memory.
TCP dials for -L and the app proxy stay in the agent. A root agent without
--run-as runs sessions as the owner of --dir, and refuses to start when
that is root, unless --run-as root says so. A non-root agent runs sessions
as itself, and says at start what that means.

The agent token is an enrolment secret, used once: at its first connect the
agent makes a key pair (in --state-dir, one file per --workspace, mode 0600),
the gateway pins its public key and the token stops working. From then on
the agent proves who it is by signing a fresh challenge of the gateway with
that key, and restarts need no token. The gateway replaces the key over the
tunnel when someone who had a session loses access; an agent that was offline
then, or whose token the owner replaced, needs a new token
(wsgate workspaces rotate-agent-token).

The agent token is sent only over https://, or over http:// to this machine
(localhost, 127.0.0.0/8, ::1, or the unspecified 0.0.0.0 and ::);
--insecure-plaintext allows http:// to any host. Until its tunnel has been up once, a dial that fails because the
gateway's certificate is not trusted or not issued for the URL's host, or
because the URL's scheme does not match the port, makes the agent exit with
the reason: retrying would not help. Once it has been up, such failures (a
gateway that changed its certificate) are logged with the reason and
retried, so a fix on the gateway brings the agent back.

Every process a session starts, detached or not, belongs to that session's
user: when the user's access to the workspace ends, the gateway has the
agent end them (SIGTERM, then SIGKILL after 1s), and logs them.
--on-revoke keep-processes keeps them. Processes are tracked in a cgroup
per connection where cgroup v2 is writable (run the agent as root, or in a
delegated cgroup: systemd Delegate=yes); otherwise the agent is a child
subreaper and finds them by their ancestry, which a process that double
forks and calls setsid quickly enough escapes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := hardenAgent(); err != nil {
				return err
			}
			if err := bindEnvPrefix(cmd, "WSGATE_AGENT_"); err != nil {
				return err
			}
			if caFile == "" {
				caFile = os.Getenv(envCAFile)
			}
			log := slog.Default().With("part", "agent")
			token, err := agentToken(cmd, token, tokenFile, tokenFD, log)
			if err != nil {
				return err
			}
			if gatewayURL == "" {
				return errors.New("agent needs --url and, to enrol, --token-file (or WSGATE_AGENT_URL and WSGATE_AGENT_TOKEN)")
			}
			keys, err := openAgentKey(stateDir, workspace, token)
			if err != nil {
				return err
			}
			if err := checkCleartext(gatewayURL, insecurePlaintext); err != nil {
				return err
			}
			keepProcesses, err := parseOnRevoke(onRevoke)
			if err != nil {
				return err
			}
			tlsConfig, err := tlsconf.ClientConfig(caFile)
			if err != nil {
				return err
			}
			if dir, err = agentDir(dir, runAs); err != nil {
				return err
			}
			if runAs, err = resolveRunAs(runAs, dir); err != nil {
				return err
			}
			if tokenFile != "" {
				uid, err := runAsUID(runAs)
				if err != nil {
					return err
				}
				if err := checkTokenFileOwner(tokenFile, uid); err != nil {
					return err
				}
			}
			if insecurePlaintext {
				if u, _ := url.Parse(gatewayURL); u.Scheme == "http" && !staysOnThisMachine(u.Hostname()) {
					log.Warn("sending the agent token in cleartext (--insecure-plaintext)", "gateway", u.Redacted())
				}
			}
			a, err := agent.New(agent.Config{
				Workspace: workspace, Dir: dir, Shell: shell, Logger: log,
				RunAs: runAs, SFTPCommand: []string{selfExe, "agent", "sftp-server"},
				KeepProcesses: keepProcesses, RotateKey: keys.Rotate,
			})
			if err != nil {
				return fmt.Errorf("start agent: %w", err)
			}
			defer a.Close()
			err = a.Run(cmd.Context(), tunnel.ClientConfig{
				URL: gatewayURL, Identity: keys, TLSConfig: tlsConfig, Logger: log,
				ExplainDialError: tlsconf.Explain,
				GiveUp:           giveUpOnRefusalBeforeUp,
			})
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&gatewayURL, "url", "", "gateway base URL, e.g. https://gateway:8080")
	f.StringVar(&token, "token", "", "agent token of this workspace (prefer --token-file: a command line is visible to every user of the host)")
	f.StringVar(&tokenFile, "token-file", "", "file holding the agent token; it must be readable only by its owner")
	f.IntVar(&tokenFD, "token-fd", -1, "descriptor to read the agent token from (the agent's own re-exec)")
	_ = f.MarkHidden("token-fd")
	f.StringVar(&runAs, "run-as", "", "OS user sessions run as when the agent runs as root (default: the owner of --dir; root only when named)")
	f.StringVar(&dir, "dir", "", "start directory of sessions, made absolute (default: the --run-as user's home, else the current directory)")
	f.StringVar(&shell, "shell", "", "login shell (default: $SHELL, else /bin/bash or /bin/sh)")
	f.StringVar(&workspace, "workspace", "", "owner/name, shown to sessions as WSGATE_WORKSPACE")
	f.StringVar(&caFile, "ca-file", "", "PEM file of CA certificates to trust for the gateway, besides the system's")
	f.StringVar(&onRevoke, "on-revoke", "kill", "what happens to a user's processes when their access ends: kill (TERM, then KILL after 1s) or keep-processes")
	f.StringVar(&stateDir, "state-dir", "", "where the agent keeps its key, outside the workspace's files (default: $XDG_STATE_HOME/wsgate/agent, /var/lib/wsgate/agent as root)")
	f.BoolVar(&insecurePlaintext, "insecure-plaintext", false, "allow an http:// URL to a host that is not loopback (the token travels in cleartext)")
	cmd.AddCommand(newAgentSFTPServerCmd())
	return cmd
}

// agentDir is the sessions' start directory as an absolute path: a
// relative one would mean the agent's working directory to some parts and
// the session's to others (scp into "alice-ws/…" from a shell started in
// it). Without --dir it is the --run-as user's home, else the current
// directory.
func agentDir(dir, runAs string) (string, error) {
	if dir == "" && runAs != "" {
		u, err := user.Lookup(runAs)
		if err != nil {
			return "", fmt.Errorf("--run-as: %w", err)
		}
		dir = u.HomeDir
	}
	if dir == "" {
		return os.Getwd()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--dir: %w", err)
	}
	return abs, nil
}

// parseOnRevoke reads --on-revoke: whether processes are kept.
func parseOnRevoke(v string) (keep bool, err error) {
	switch v {
	case "kill":
		return false, nil
	case "keep-processes":
		return true, nil
	}
	return false, fmt.Errorf("invalid --on-revoke %q: use kill or keep-processes", v)
}

// checkCleartext refuses an http:// gateway URL whose host is not loopback
// unless allowed: the agent token would cross a network in cleartext. It
// runs before anything is dialled (or resolved).
func checkCleartext(rawURL string, allow bool) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("invalid --url: %w", err)
	}
	if u.Scheme != "http" || allow || staysOnThisMachine(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("refusing to send the agent token in cleartext to %s: use https://, or pass --insecure-plaintext", u.Redacted())
}

// staysOnThisMachine reports whether a dial to host never leaves this
// machine: a loopback host, or the unspecified address (0.0.0.0, ::),
// which the kernel connects to the local host. The server hands its
// provisioner such a URL when it listens on ":8080".
func staysOnThisMachine(host string) bool {
	if tlsconf.IsLoopbackHost(host) {
		return true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return err == nil && a.Unmap().IsUnspecified()
}

// giveUpOnMismatchBeforeUp stops an agent that has never had a tunnel up
// when a dial fails on a certificate or scheme mismatch: that is a mistake
// in this agent's configuration (URL, CA file), which retrying cannot fix,
// and exiting says so where it is seen (the terminal, systemd's status). An
// agent that was up has a working configuration: the gateway changed, and a
// fix there brings the agent back, so it keeps retrying (each failure is
// logged with the reason).
func giveUpOnMismatchBeforeUp(err error, wasUp bool) bool {
	return !wasUp && tlsconf.IsConfigMismatch(err)
}
