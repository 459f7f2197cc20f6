package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/acl/redisstore"
	"github.com/wsgate/wsgate/gateway"
	"github.com/wsgate/wsgate/gateway/httpapi"
	"github.com/wsgate/wsgate/internal/sshkey"
)

// serverFlags are shared by `server` and `dev`.
type serverFlags struct {
	sshAddr, httpAddr, dataDir string
	redisURL, redisPrefix      string
	hostKey, userCAKeys        string
	hostnameSuffix, logLevel   string
	disableSharing             bool
	storeGrace                 time.Duration
	lockMode                   string
	provisionerCmd             string
	appsDomain                 string
	pathApps                   bool
	accessURL                  string
	tlsCertFile, tlsKeyFile    string
	trustedProxies             string
	sshProxyProtocol           bool
	pprofAddr                  string
	pprofAllowRemote           bool
	// credflags.go
	revokedKeysFile  string
	metricsAddr      string
	credFlags        bool // registerCredentials ran: `server`, not `dev` (which serves /metrics on its loopback HTTP port)
	maxTokenLifetime time.Duration
	edge             edgeFlags
}

func (f *serverFlags) register(cmd *cobra.Command, sshDefault, httpDefault, dataDefault string) {
	fl := cmd.Flags()
	fl.StringVar(&f.sshAddr, "ssh-addr", sshDefault, "address of the SSH front door")
	fl.StringVar(&f.httpAddr, "http-addr", httpDefault, "address of the HTTP port (API, agent tunnels)")
	fl.StringVar(&f.dataDir, "data-dir", dataDefault, "directory for the embedded store and the host key")
	fl.StringVar(&f.hostKey, "host-key", "", "SSH host key file (default: DATA_DIR/host_ed25519, created once)")
	fl.StringVar(&f.userCAKeys, "user-ca-keys", "", "file of trusted user CA public keys (authorized_keys format)")
	fl.StringVar(&f.hostnameSuffix, "hostname-suffix", "coder", "host alias suffix, as in alice-ws.coder")
	fl.BoolVar(&f.disableSharing, "disable-sharing", false, "disable workspace sharing for the whole deployment")
	fl.StringVar(&f.appsDomain, "apps-domain", "", "serve workspace apps at http://PORT--NAME--OWNER.APPS_DOMAIN/ (needs a wildcard DNS record)")
	fl.BoolVar(&f.pathApps, "path-apps", false, "also serve apps at /@OWNER/NAME/apps/PORT/ on the gateway's own origin (shared with the web page: only for trusted apps)")
	fl.StringVar(&f.accessURL, "access-url", "", "URL agents, the CLI and browsers are told to use (default: from --http-addr)")
	fl.StringVar(&f.tlsCertFile, "tls-cert-file", "", "serve HTTPS with this certificate (PEM, chain allowed); reloaded on SIGHUP and when the file changes")
	fl.StringVar(&f.tlsKeyFile, "tls-key-file", "", "private key of --tls-cert-file (PEM)")
	fl.StringVar(&f.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs or IPs of proxies whose Forwarded/X-Forwarded-* headers (and PROXY protocol headers) are believed")
	fl.BoolVar(&f.sshProxyProtocol, "ssh-proxy-protocol", false, "accept PROXY protocol v1/v2 on the SSH port from --trusted-proxies (a header from anyone else closes the connection)")
	fl.StringVar(&f.pprofAddr, "pprof-addr", "", "serve Go profiles (net/http/pprof) at http://ADDR/debug/pprof/ on a listener of their own; loopback only unless --pprof-allow-remote (default: off)")
	fl.BoolVar(&f.pprofAllowRemote, "pprof-allow-remote", false, "allow a --pprof-addr that is not loopback: anyone who can reach it can read memory profiles")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	f.edge.register(cmd)
}

func (f *serverFlags) registerStore(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.redisURL, "redis-url", "", "Redis URL for many replicas (default: the embedded file store in DATA_DIR)")
	fl.StringVar(&f.provisionerCmd, "provisioner-cmd", "", "command run as: CMD start|stop|update OWNER/NAME (via /bin/sh) to start, stop and update workspaces; start and update get a new agent token in WSGATE_AGENT_TOKEN")
	fl.StringVar(&f.redisPrefix, "redis-prefix", "wsgate:", "prefix of every Redis key, so deployments can share a Redis")
	fl.DurationVar(&f.storeGrace, "store-grace", gateway.DefaultStoreGrace,
		"while the store is unreachable, decide new connections from the cache for this long after the last contact, then refuse them")
	fl.StringVar(&f.lockMode, "lock-mode", string(gateway.LockBestEffort),
		"live sessions once the store has been unreachable for --store-grace: best_effort keeps them, strict drops them")
}

func newServerCmd() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a gateway replica: SSH front door, HTTP API and agent tunnels",
		Long: `Run a gateway replica. Without --redis-url the store is an embedded file in
--data-dir (one node). With --redis-url, many replicas share Redis.
Every flag can also be set as WSGATE_<FLAG>, e.g. WSGATE_REDIS_URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if _, err := gateway.ParseLockMode(f.lockMode); err != nil {
				return fmt.Errorf("--lock-mode: %w", err)
			}
			// Before the store is opened: a refused address changes nothing.
			if err := checkPprofAddr(f.pprofAddr, f.pprofAllowRemote); err != nil {
				return err
			}
			log, err := newLogger(f.logLevel)
			if err != nil {
				return err
			}
			return runServer(cmd.Context(), &f, log)
		},
	}
	f.register(cmd, ":2222", ":8080", "./wsgate-data")
	f.registerStore(cmd)
	f.registerCredentials(cmd)
	return cmd
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q", level)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
	slog.SetDefault(log)
	return log, nil
}

func runServer(ctx context.Context, f *serverFlags, log *slog.Logger) error {
	st, err := openStore(ctx, f, log)
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := bootstrapAdminFor(ctx, st, f.dataDir, f.tokenLifetime())
	if err != nil {
		return err
	}
	if created {
		log.Info("created site admin \"admin\"; its API token is in "+filepath.Join(f.dataDir, adminTokenFile), "user", bootstrapUser)
	}
	// Bound first, so that everything built next knows the addresses.
	lns, err := listen(f)
	if err != nil {
		return err
	}
	var prov httpapi.Provisioner
	if f.provisionerCmd != "" {
		prov = &cmdProvisioner{cmd: f.provisionerCmd, store: st, agentURL: f.accessURLFor(lns), log: log.With("part", "provisioner")}
	}
	srv, err := startGateway(f, st, prov, lns, log)
	if err != nil {
		return err
	}
	return waitAndShutdown(ctx, srv, log)
}

// openStore opens Redis when a URL is given, else the embedded file store.
func openStore(ctx context.Context, f *serverFlags, log *slog.Logger) (acl.Store, error) {
	if f.redisURL != "" {
		st, err := redisstore.New(redisstore.Config{URL: f.redisURL, Prefix: f.redisPrefix, Logger: log.With("part", "store")})
		if err != nil {
			return nil, fmt.Errorf("open redis store: %w", err)
		}
		// Fail at start, not at the first SSH connection, when Redis is
		// unreachable.
		if err := st.Ping(ctx); err != nil {
			st.Close()
			return nil, fmt.Errorf("reach redis: %w", err)
		}
		// Workspaces written before UIDs existed get theirs (idempotent,
		// safe with several replicas starting at once).
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, fmt.Errorf("migrate redis store: %w", err)
		}
		return st, nil
	}
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	st, err := filestore.New(filestore.Config{Path: filepath.Join(f.dataDir, "wsgate.db"), Logger: log.With("part", "store")})
	if err != nil {
		return nil, fmt.Errorf("open file store: %w", err)
	}
	return st, nil
}

// listeners are the gateway's ports, bound before it is built; pprof is
// nil without --pprof-addr.
type listeners struct{ ssh, http, pprof, metrics net.Listener }

func listen(f *serverFlags) (listeners, error) {
	// First: a refused --pprof-addr must leave no port bound.
	pprofLn, err := listenPprof(f.pprofAddr, f.pprofAllowRemote)
	if err != nil {
		return listeners{}, err
	}
	l := listeners{pprof: pprofLn}
	if l.ssh, err = net.Listen("tcp", f.sshAddr); err != nil {
		l.close()
		return listeners{}, fmt.Errorf("listen ssh %s: %w", f.sshAddr, err)
	}
	if l.http, err = net.Listen("tcp", f.httpAddr); err != nil {
		l.close()
		return listeners{}, fmt.Errorf("listen http %s: %w", f.httpAddr, err)
	}
	if l.metrics, err = f.listenMetrics(); err != nil {
		l.close()
		return listeners{}, err
	}
	return l, nil
}

// accessURL is the URL agents and clients are told to use: --access-url,
// else derived from the HTTP listener.
func (f *serverFlags) accessURLFor(l listeners) string {
	if f.accessURL != "" {
		return strings.TrimSuffix(f.accessURL, "/")
	}
	return gateway.DefaultAccessURL(l.http.Addr(), f.tlsCertFile != "")
}

func (l listeners) close() {
	for _, ln := range []net.Listener{l.ssh, l.http, l.pprof, l.metrics} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// startGateway starts a replica over st on lns; prov runs workspace
// start/stop/update (nil: the API only records the states). lns are closed
// when it fails.
func startGateway(f *serverFlags, st acl.Store, prov httpapi.Provisioner, lns listeners, log *slog.Logger) (*gateway.Server, error) {
	hostKeyPath := f.hostKey
	if hostKeyPath == "" {
		hostKeyPath = filepath.Join(f.dataDir, "host_ed25519")
	}
	signer, err := sshkey.LoadOrCreate(hostKeyPath, "wsgate-host")
	if err != nil {
		lns.close()
		return nil, fmt.Errorf("host key: %w", err)
	}
	cas, err := loadUserCAKeys(f.userCAKeys)
	if err != nil {
		lns.close()
		return nil, err
	}
	srv, err := gateway.Start(gateway.ServerConfig{
		Store:             st,
		AccessURL:         f.accessURLFor(lns),
		SSHListener:       lns.ssh,
		HTTPListener:      lns.http,
		HostSigner:        signer,
		UserCAKeys:        cas,
		HostnameSuffix:    f.hostnameSuffix,
		DisableSharing:    f.disableSharing,
		AppsDomain:        f.appsDomain,
		PathApps:          f.pathApps,
		Provisioner:       prov,
		TLSCertFile:       f.tlsCertFile,
		TLSKeyFile:        f.tlsKeyFile,
		TrustedProxies:    f.trustedProxies,
		SSHProxyProtocol:  f.sshProxyProtocol,
		StoreGrace:        f.storeGrace,
		LockMode:          gateway.LockMode(f.lockMode),
		Logger:            log,
		RevokedKeysFile:   f.revokedKeysFile,
		MetricsListener:   lns.metrics,
		MetricsOnHTTPPort: !f.credFlags,
		MaxTokenLifetime:  f.tokenLifetime(),
		Edge:              f.edge.limits(),
	})
	if err != nil {
		if lns.pprof != nil {
			_ = lns.pprof.Close() // Start closed the others
		}
		return nil, err
	}
	if lns.pprof != nil {
		// Profiling stops when the gateway does (Done is closed as
		// Shutdown begins, or when a listener fails), whoever stops it.
		servePprof(lns.pprof, srv.Done(), f.pprofAllowRemote, log)
	}
	return srv, nil
}

func loadUserCAKeys(path string) ([]ssh.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --user-ca-keys: %w", err)
	}
	var keys []ssh.PublicKey
	for len(b) > 0 {
		k, _, _, rest, err := ssh.ParseAuthorizedKey(b)
		if err != nil {
			if len(keys) > 0 {
				break // only comments and blank lines are left
			}
			return nil, fmt.Errorf("parse --user-ca-keys %s: %w", path, err)
		}
		keys = append(keys, k)
		b = rest
	}
	return keys, nil
}

// waitAndShutdown blocks until ctx ends (a signal) or the server fails, then
// shuts down, giving live work 10 s.
func waitAndShutdown(ctx context.Context, srv *gateway.Server, log *slog.Logger) error {
	// SIGHUP reloads the TLS certificate; live connections keep theirs.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
wait:
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down")
			break wait
		case <-srv.Done():
			break wait
		case <-hup:
			if err := srv.ReloadTLS(); err != nil {
				log.Error("SIGHUP: TLS certificate not reloaded; the old one is still served", "err", err)
			} else {
				log.Info("SIGHUP: TLS certificate reloaded")
			}
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if ferr := srv.Err(); ferr != nil {
		return ferr
	}
	return err
}
