package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/atomicfile"
	"github.com/wsgate/wsgate/internal/devca"
	"github.com/wsgate/wsgate/internal/sshkey"
	"github.com/wsgate/wsgate/internal/tlsconf"
)

// The dev seed: three users, one group, one workspace.
var (
	devUsers     = []string{"alice", "bob", "carol"}
	devGroup     = acl.Group{Name: "contractor", Members: []string{"carol"}}
	devWorkspace = acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}
)

// devInfo is DATA_DIR/dev.json, for scripts and tests.
type devInfo struct {
	SSHAddr  string `json:"ssh_addr"`
	HTTPAddr string `json:"http_addr"`
	URL      string `json:"url"`
	// CAFile is the throwaway CA that signed the certificate with --tls.
	CAFile string `json:"ca_file,omitempty"`
}

func newDevCmd() *cobra.Command {
	var f serverFlags
	var devTLS bool
	var wsDir string
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a gateway, a seeded store and a workspace agent in one process (no Redis)",
		Long: `Run everything a new user needs in one process: the gateway with the embedded
store in --data-dir, seeded on first start with users alice, bob and carol
(keys and API tokens under DATA_DIR/users/<user>/), group contractor (carol),
and workspace alice/alice-ws whose agent runs in this process with its files in
WORKSPACES_DIR/alice-ws (--workspaces-dir, default DATA_DIR-workspaces next to
the data dir, never inside it: the data dir holds every user's token). Sessions
of everyone alice shares with run as your OS user. A restart with the same --data-dir keeps
everything. Once ready it writes DATA_DIR/dev.json (removed again when it
stops) and prints how to connect.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			log, err := newLogger(f.logLevel)
			if err != nil {
				return err
			}
			return runDev(cmd.Context(), &f, devTLS, wsDir, cmd.OutOrStdout(), log)
		},
	}
	f.register(cmd, "127.0.0.1:2222", "127.0.0.1:8080", "./.wsgate-dev")
	cmd.Flags().StringVar(&wsDir, "workspaces-dir", "", "directory for the workspaces' files, outside --data-dir (default: DATA_DIR-workspaces, next to it)")
	cmd.Flags().BoolVar(&devTLS, "tls", false, "serve HTTPS with a throwaway CA and certificate made in DATA_DIR/tls (the banner says how to trust it)")
	return cmd
}

func runDev(ctx context.Context, f *serverFlags, devTLS bool, wsDir string, out io.Writer, log *slog.Logger) error {
	dir, err := filepath.Abs(f.dataDir)
	if err != nil {
		return err
	}
	f.dataDir = dir
	wsDir, err = devWorkspacesDir(dir, wsDir, log)
	if err != nil {
		return err
	}
	// A stale dev.json would tell scripts we are ready before we are.
	if err := os.Remove(filepath.Join(dir, "dev.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	st, err := openStore(ctx, f, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := bootstrapAdmin(ctx, st, dir); err != nil {
		return err
	}
	if err := seedDev(ctx, st, dir); err != nil {
		return fmt.Errorf("seed dev store: %w", err)
	}
	// The agent token is rotated on every start: only its hash is stored,
	// and the in-process agent is its only holder.
	agentToken := acl.NewSecret(acl.AgentTokenPrefix)
	if err := st.SetAgentTokenHash(ctx, devWorkspace, acl.HashToken(agentToken)); err != nil {
		return fmt.Errorf("set agent token: %w", err)
	}

	lns, err := listen(f)
	if err != nil {
		return err
	}
	var caFile string
	if devTLS {
		if caFile, err = devCertificate(f, lns); err != nil {
			lns.close()
			return err
		}
	}
	agentTLS, err := devAgentTLS(f, caFile)
	if err != nil {
		lns.close()
		return err
	}
	prov := &devAgent{tls: agentTLS, ws: devWorkspace, dir: filepath.Join(wsDir, devWorkspace.Name), url: f.accessURLFor(lns), token: agentToken, stateDir: filepath.Join(dir, "agent"), log: log.With("part", "agent")}
	srv, err := startGateway(f, st, prov, lns, log)
	if err != nil {
		return err
	}
	info := devInfo{
		SSHAddr:  srv.SSHAddr().String(),
		HTTPAddr: srv.HTTPAddr().String(),
		URL:      srv.AccessURL(),
		CAFile:   caFile,
	}
	ws, err := st.GetWorkspace(ctx, devWorkspace)
	if err == nil {
		err = prov.Start(ctx, ws)
	}
	if err == nil {
		err = st.SetWorkspaceState(ctx, devWorkspace, acl.StateRunning)
	}
	if err == nil {
		err = writeDevFiles(dir, info, srv.SSHAddr(), hostKeyOf(f))
	}
	if err != nil {
		_ = prov.Stop(context.Background(), ws)
		_ = srv.Shutdown(context.Background())
		return err
	}
	printDevHelp(out, dir, wsDir, info)

	err = waitAndShutdown(ctx, srv, log)
	// dev.json says "ready": it must not outlive the server it describes.
	if rerr := os.Remove(filepath.Join(dir, "dev.json")); rerr != nil && err == nil {
		err = rerr
	}
	// The gateway is closed: no API call can start the agent again.
	if serr := prov.Stop(context.Background(), ws); serr != nil && err == nil {
		err = serr
	}
	return err
}

func hostKeyOf(f *serverFlags) string {
	if f.hostKey != "" {
		return f.hostKey
	}
	return filepath.Join(f.dataDir, "host_ed25519")
}

// seedDev creates whatever part of the seed is missing, so a first start
// that was interrupted completes on the next one.
func seedDev(ctx context.Context, st acl.Store, dir string) error {
	for _, name := range devUsers {
		signer, err := sshkey.LoadOrCreate(filepath.Join(dir, "users", name, "id_ed25519"), name+"@wsgate-dev")
		if err != nil {
			return err
		}
		if err := createIfMissing(st.CreateUser(ctx, acl.User{Name: name, DisplayName: name})); err != nil {
			return err
		}
		key := acl.PublicKey{
			Fingerprint:   ssh.FingerprintSHA256(signer.PublicKey()),
			AuthorizedKey: trimNewline(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))),
			Comment:       name + "@wsgate-dev",
		}
		if err := createIfMissing(st.AddUserKey(ctx, name, key)); err != nil {
			return err
		}
		if err := seedToken(ctx, st, dir, name); err != nil {
			return err
		}
	}
	if err := createIfMissing(st.CreateGroup(ctx, acl.Group{Name: devGroup.Name})); err != nil {
		return err
	}
	for _, m := range devGroup.Members {
		if err := createIfMissing(st.AddGroupMember(ctx, devGroup.Name, m)); err != nil {
			return err
		}
	}
	err := st.CreateWorkspace(ctx, acl.Workspace{Owner: devWorkspace.Owner, Name: devWorkspace.Name, State: acl.StateRunning})
	return createIfMissing(err)
}

// seedToken creates an API token for user unless DIR/users/U/token exists.
func seedToken(ctx context.Context, st acl.Store, dir, user string) error {
	path := filepath.Join(dir, "users", user, "token")
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	secret := acl.NewSecret(acl.APITokenPrefix)
	tok := acl.Token{ID: acl.NewID(), User: user, Name: "dev", Hash: acl.HashToken(secret), CreatedAt: time.Now()}
	if err := st.CreateToken(ctx, tok); err != nil {
		return fmt.Errorf("create token for %s: %w", user, err)
	}
	return atomicfile.Write(path, []byte(secret+"\n"), 0o600)
}

func createIfMissing(err error) error {
	if err == nil || errors.Is(err, acl.ErrConflict) {
		return nil
	}
	return err
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// writeDevFiles writes known_hosts (so the printed ssh command needs no
// host-key prompt) and then dev.json, the readiness signal.
func writeDevFiles(dir string, info devInfo, sshAddr net.Addr, hostKeyPath string) error {
	pub, err := os.ReadFile(hostKeyPath + ".pub")
	if err != nil {
		return fmt.Errorf("read host public key: %w", err)
	}
	host, port := knownHostsName(sshAddr)
	line := host + " " + trimNewline(string(pub)) + "\n"
	if port != "" {
		line = "[" + host + "]:" + port + " " + trimNewline(string(pub)) + "\n"
	}
	if err := atomicfile.Write(filepath.Join(dir, "known_hosts"), []byte(line), 0o644); err != nil {
		return err
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "dev.json"), append(b, '\n'), 0o644)
}

// knownHostsName returns the host and, unless it is 22, the port, as
// OpenSSH writes them in known_hosts.
func knownHostsName(addr net.Addr) (host, port string) {
	h, p, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String(), ""
	}
	if p == "22" {
		p = ""
	}
	return h, p
}

func sshCommand(dir, user string, info devInfo) string {
	host, port, _ := net.SplitHostPort(info.SSHAddr)
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("ssh -p %s -i %s -o IdentitiesOnly=yes -o UserKnownHostsFile=%s %s@%s",
		port, filepath.Join(dir, "users", user, "id_ed25519"), filepath.Join(dir, "known_hosts"), devWorkspace.Name, host)
}

func printDevHelp(out io.Writer, dir, wsDir string, info devInfo) {
	self, err := os.Executable()
	if err != nil {
		self = "wsgate"
	}
	env := "WSGATE_URL=" + info.URL
	trust := ""
	if info.CAFile != "" {
		env = "WSGATE_CA_FILE=" + info.CAFile + " " + env
		trust = fmt.Sprintf(`
HTTPS is served with a throwaway CA made for this demo: %s
Trust it with --ca-file (wsgate login, wsgate agent), WSGATE_CA_FILE or
SSL_CERT_FILE set to that file, or import it into your browser.
`, info.CAFile)
	}
	fmt.Fprintf(out, `wsgate dev is ready.
  SSH:        %s
  HTTP:       %s
  data:       %s
  workspaces: %s

Sessions in alice-ws, alice's and those of everyone she shares it with, run
as your OS user (%s): a collaborator can read and change whatever you can.
Share only with people you would give a shell on this machine.
%s
Connect to alice's workspace as alice:
  %s

bob and carol have keys too (%s/users/<user>/id_ed25519); they are refused
until alice shares alice-ws with them, for example with bob:
  %s WSGATE_TOKEN=$(cat %s) %s sharing share alice-ws --user bob
  %s

Or share from the web page at %s/ (sign in with the token in %s).

Press Ctrl-C to stop.
`, info.SSHAddr, info.URL, dir, wsDir, osUserName(), trust, sshCommand(dir, "alice", info), dir,
		env, filepath.Join(dir, "users", "alice", "token"), self, sshCommand(dir, "bob", info),
		info.URL, filepath.Join(dir, "users", "alice", "token"))
}

// devCertificate makes (once) a throwaway CA and a certificate for the
// addresses dev listens on, in DATA_DIR/tls, points f at them, and returns
// the CA's file.
func devCertificate(f *serverFlags, lns listeners) (string, error) {
	if f.tlsCertFile != "" {
		return "", errors.New("--tls makes its own certificate: drop --tls-cert-file and --tls-key-file, or --tls")
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if host, _, err := net.SplitHostPort(lns.http.Addr().String()); err == nil && !slices.Contains(hosts, host) {
		hosts = append(hosts, host)
	}
	files, err := devca.Ensure(filepath.Join(f.dataDir, "tls"), hosts)
	if err != nil {
		return "", fmt.Errorf("dev certificate: %w", err)
	}
	f.tlsCertFile, f.tlsKeyFile = files.Cert, files.Key
	return files.CA, nil
}

// devAgentTLS is what the in-process agent trusts: the system's roots and
// WSGATE_CA_FILE, the dev CA with --tls, and, with a certificate of the
// user's own, that very certificate (the agent dials this process, so the
// certificate it serves is the one to trust, whoever signed it).
func devAgentTLS(f *serverFlags, devCA string) (*tls.Config, error) {
	caFile := devCA
	if caFile == "" {
		caFile = os.Getenv(envCAFile)
	}
	cfg, err := tlsconf.ClientConfig(caFile)
	if err != nil {
		return nil, err
	}
	if devCA == "" && f.tlsCertFile != "" {
		pem, err := os.ReadFile(f.tlsCertFile)
		if err != nil {
			return nil, fmt.Errorf("read --tls-cert-file: %w", err)
		}
		if cfg.RootCAs == nil {
			if cfg.RootCAs, err = x509.SystemCertPool(); err != nil {
				cfg.RootCAs = x509.NewCertPool()
			}
		}
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-cert-file %s holds no certificate", f.tlsCertFile)
		}
	}
	return cfg, nil
}
