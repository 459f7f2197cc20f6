package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/internal/atomicfile"
)

// The managed block's marker lines. Everything between them belongs to
// wsgate; everything outside is never touched.
const (
	sshBlockStart = "# ------------START-WSGATE-----------"
	sshBlockEnd   = "# ------------END-WSGATE------------"
)

// sshCiphers is the cipher order of every entry. The client's order picks
// the cipher, and OpenSSH's default puts chacha20-poly1305 first, which the
// gateway runs as generic Go, while AES-GCM runs on the CPU's AES
// instructions, much faster. chacha20 stays, last, for clients that allow
// nothing else.
const sshCiphers = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com"

func newConfigSSHCmd() *cobra.Command {
	var (
		file   string
		dryRun bool
		suffix string
		yes    bool
		https  bool
		idFile string
		khFile string
	)
	cmd := &cobra.Command{
		Use:   "config-ssh",
		Short: "Write SSH host entries for your workspaces into ~/.ssh/config",
		Long: "config-ssh writes one managed block, between marker lines, with a Host entry\n" +
			"for every workspace you own or that is shared with you, so that\n" +
			"`ssh <name>.coder`, `ssh <owner>--<name>.coder` and scp/sftp/rsync work.\n" +
			"Every entry lists AES-GCM first in Ciphers (faster on the gateway than\n" +
			"OpenSSH's default chacha20-poly1305). Text outside the block is never\n" +
			"changed; a new block goes before the first `Host *` or `Match all`, whose\n" +
			"settings would otherwise override the entries'. It shows the change first\n" +
			"and asks before writing, unless -y.\n\n" +
			"Each entry names your key (--identity-file; by default the first key in\n" +
			"~/.ssh whose public half is registered to your account) and a known_hosts\n" +
			"file that config-ssh writes with the gateway's host key, fetched over the\n" +
			"API, under one HostKeyAlias: no alias asks to trust the gateway.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				home, err := os.UserHomeDir()
				if err != nil {
					return fmt.Errorf("find home directory: %w", err)
				}
				file = filepath.Join(home, ".ssh", "config")
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			var proxy string
			if https {
				if proxy, err = stdioProxyCommand(); err != nil {
					return err
				}
			}
			if khFile == "" {
				khFile = filepath.Join(filepath.Dir(file), "wsgate_known_hosts")
			}
			if khFile, err = filepath.Abs(khFile); err != nil {
				return err
			}
			if idFile == "" {
				idFile = findIdentityFile(cmd.Context(), c)
			} else if idFile, err = filepath.Abs(idFile); err != nil {
				return err
			}
			dep, err := c.Deployment(cmd.Context())
			if err != nil {
				return fmt.Errorf("read the gateway's SSH address: %w", err)
			}
			opts := sshBlockOptions{suffix: suffix, proxy: proxy, identityFile: idFile, knownHosts: khFile,
				hostKeyAlias: hostKeyAlias(c.URL().Host)}
			block, err := buildSSHBlock(cmd.Context(), c, dep, opts)
			if err != nil {
				return err
			}
			if err := applySSHBlock(cmd, file, block, dryRun, yes); err != nil || dryRun {
				return err
			}
			return writeKnownHosts(cmd.OutOrStdout(), khFile, opts.hostKeyAlias, dep.SSHHostKeys)
		},
	}
	cmd.Flags().StringVar(&file, "ssh-config-file", "", "SSH config file to change (default ~/.ssh/config)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show the change without writing it")
	cmd.Flags().StringVar(&suffix, "hostname-suffix", "", "host alias suffix (default the server's, usually coder)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "write without asking")
	cmd.Flags().StringVar(&idFile, "identity-file", "", "private key file the entries use (default: a key in ~/.ssh registered to your account, if any)")
	cmd.Flags().StringVar(&khFile, "known-hosts-file", "", "known_hosts file written with the gateway's host key (default: wsgate_known_hosts next to the SSH config file)")
	cmd.Flags().BoolVar(&https, "use-https", false, "connect through the HTTP(S) port with `wsgate ssh --stdio` (ProxyCommand) instead of the SSH port")
	return cmd
}

// sshHost is one Host entry.
type sshHost struct {
	aliases []string
	user    string // the gateway's target: owner--name
}

// sshBlockOptions shape the entries of the managed block.
type sshBlockOptions struct {
	suffix       string // host alias suffix; "" for the server's
	proxy        string // ProxyCommand instead of HostName and Port
	identityFile string // IdentityFile, when set
	knownHosts   string // UserKnownHostsFile, with hostKeyAlias, when set
	hostKeyAlias string
}

// buildSSHBlock returns the managed block for the caller's reachable
// workspaces, marker lines included. With opts.proxy set, entries reach
// the gateway through it instead of the SSH port.
func buildSSHBlock(ctx context.Context, c *apiclient.Client, dep apitypes.Deployment, opts sshBlockOptions) (string, error) {
	suffix := opts.suffix
	if suffix == "" {
		suffix = dep.HostnameSuffix
	}
	if suffix == "" {
		suffix = apitypes.DefaultHostnameSuffix
	}
	host, port, err := sshEndpoint(dep.SSHAddr, c.URL().Hostname())
	if err != nil {
		return "", err
	}
	me, err := c.Me(ctx)
	if err != nil {
		return "", err
	}
	own, err := c.ListWorkspaces(ctx, "owner:me")
	if err != nil {
		return "", err
	}
	shared, err := c.ListWorkspaces(ctx, "shared_with_user:me")
	if err != nil {
		return "", err
	}
	hosts := sshHosts(me.Name, append(own, shared...), suffix)

	var b strings.Builder
	b.WriteString(sshBlockStart + "\n")
	fmt.Fprintf(&b, "# Managed by `wsgate config-ssh` for %s; edits here are overwritten.\n", c.URL())
	for _, h := range hosts {
		fmt.Fprintf(&b, "Host %s\n", strings.Join(h.aliases, " "))
		if opts.proxy != "" {
			fmt.Fprintf(&b, "  ProxyCommand %s\n", opts.proxy)
		} else {
			fmt.Fprintf(&b, "  HostName %s\n", host)
			fmt.Fprintf(&b, "  Port %s\n", port)
		}
		fmt.Fprintf(&b, "  User %s\n", h.user)
		fmt.Fprintf(&b, "  Ciphers %s\n", sshCiphers)
		if opts.identityFile != "" {
			fmt.Fprintf(&b, "  IdentityFile %s\n", sshConfigQuote(opts.identityFile))
		}
		if opts.knownHosts != "" {
			fmt.Fprintf(&b, "  UserKnownHostsFile %s\n", sshConfigQuote(opts.knownHosts))
			fmt.Fprintf(&b, "  HostKeyAlias %s\n", opts.hostKeyAlias)
		}
	}
	b.WriteString(sshBlockEnd + "\n")
	return b.String(), nil
}

// sshEndpoint turns the server's SSH address into the host and port to
// dial: an empty or wildcard host means the API URL's host.
func sshEndpoint(addr, apiHost string) (host, port string, err error) {
	if addr == "" {
		return "", "", errors.New("the gateway did not say where its SSH port is (no ssh_addr)")
	}
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("invalid SSH address %q from the gateway: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = apiHost
	}
	return host, port, nil
}

// sshHosts gives every workspace the alias <owner>--<name>.<suffix>, and
// <name>.<suffix> when that name means it: the caller's own workspace, or
// the only one shared with the caller by that name (as the CLI resolves).
func sshHosts(me string, ws []apitypes.Workspace, suffix string) []sshHost {
	seen := map[string]bool{}
	byName := map[string][]apitypes.Workspace{}
	var uniq []apitypes.Workspace
	for _, w := range ws {
		id := w.Owner + "/" + w.Name
		if seen[id] {
			continue
		}
		seen[id] = true
		uniq = append(uniq, w)
		byName[w.Name] = append(byName[w.Name], w)
	}
	sort.Slice(uniq, func(i, j int) bool {
		if uniq[i].Owner != uniq[j].Owner {
			return uniq[i].Owner < uniq[j].Owner
		}
		return uniq[i].Name < uniq[j].Name
	})
	bare := func(w apitypes.Workspace) bool {
		if w.Owner == me {
			return true
		}
		for _, o := range byName[w.Name] {
			if o.Owner == me {
				return false
			}
		}
		return len(byName[w.Name]) == 1
	}
	out := make([]sshHost, 0, len(uniq))
	for _, w := range uniq {
		target := w.Owner + "--" + w.Name
		h := sshHost{user: target}
		if bare(w) {
			h.aliases = append(h.aliases, w.Name+"."+suffix)
		}
		h.aliases = append(h.aliases, target+"."+suffix)
		out = append(out, h)
	}
	return out
}

// replaceSSHBlock returns content with its managed block replaced by
// block. ssh takes each option from the first entry that sets it, so the
// block must come before the first catch-all (`Host *`, `Match all`),
// whose User or Port would otherwise win: a new block goes there (else at
// the end), and a block found after one is moved there.
func replaceSSHBlock(content, block string) (string, error) {
	lines := strings.SplitAfter(content, "\n")
	start, end := -1, -1
	for i, l := range lines {
		switch strings.TrimRight(l, "\r\n") {
		case sshBlockStart:
			if start >= 0 {
				return "", errors.New("more than one wsgate start marker; fix the file by hand")
			}
			start = i
		case sshBlockEnd:
			if end >= 0 {
				return "", errors.New("more than one wsgate end marker; fix the file by hand")
			}
			end = i
		}
	}
	switch {
	case start < 0 && end < 0:
	case start < 0 || end < 0 || end < start:
		return "", errors.New("the wsgate markers are unpaired or out of order; fix the file by hand")
	default:
		if c := firstCatchAll(lines); c < 0 || start < c {
			before := strings.Join(lines[:start], "")
			after := strings.Join(lines[end+1:], "")
			return before + block + after, nil
		}
		// Misplaced: take it out, then place it as a new one.
		after := strings.TrimPrefix(strings.Join(lines[end+1:], ""), "\n")
		content = strings.Join(lines[:start], "") + after
		lines = strings.SplitAfter(content, "\n")
	}
	if c := firstCatchAll(lines); c >= 0 {
		before := strings.Join(lines[:c], "")
		if before != "" && !strings.HasSuffix(before, "\n\n") {
			before += "\n"
		}
		return before + block + "\n" + strings.Join(lines[c:], ""), nil
	}
	if content == "" {
		return block, nil
	}
	sep := "\n"
	if !strings.HasSuffix(content, "\n") {
		sep = "\n\n"
	} else if strings.HasSuffix(content, "\n\n") {
		sep = ""
	}
	return content + sep + block, nil
}

// firstCatchAll is the index of the first `Host` line with the pattern
// `*` or `Match all` line (keywords in any case, `=` allowed), or -1.
func firstCatchAll(lines []string) int {
	for i, l := range lines {
		f := strings.Fields(strings.ReplaceAll(l, "=", " "))
		if len(f) < 2 {
			continue
		}
		switch strings.ToLower(f[0]) {
		case "host":
			for _, p := range f[1:] {
				if p == "*" {
					return i
				}
			}
		case "match":
			if strings.ToLower(f[1]) == "all" {
				return i
			}
		}
	}
	return -1
}

// applySSHBlock shows the change to file and writes it (unless dry-run or
// declined), atomically and keeping the file's mode.
func applySSHBlock(cmd *cobra.Command, file, block string, dryRun, yes bool) error {
	out := cmd.OutOrStdout()
	if resolved, err := filepath.EvalSymlinks(file); err == nil {
		file = resolved // write the target, keep the link
	}
	old, err := os.ReadFile(file)
	mode := fs.FileMode(0o600)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read %s: %w", file, err)
	default:
		fi, err := os.Stat(file)
		if err != nil {
			return err
		}
		mode = fi.Mode().Perm()
	}
	updated, err := replaceSSHBlock(string(old), block)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if updated == string(old) {
		fmt.Fprintf(out, "%s is up to date.\n", file)
		return nil
	}
	writeDiff(out, file, string(old), updated)
	if dryRun {
		fmt.Fprintln(out, "Dry run: nothing written.")
		return nil
	}
	if !yes {
		ok, err := confirm(cmd.InOrStdin(), cmd.ErrOrStderr(), "Write "+file+"?")
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("not written")
		}
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(file), err)
	}
	if err := atomicfile.Write(file, []byte(updated), mode); err != nil {
		return err
	}
	fmt.Fprintf(out, "Wrote %s.\n", file)
	return nil
}

// writeDiff prints a unified-style line diff of old and new (context lines
// kept short: the block is small and the rest never changes).
func writeDiff(w io.Writer, name, old, updated string) {
	a, b := splitLines(old), splitLines(updated)
	fmt.Fprintf(w, "--- %s\n+++ %s\n", name, name)
	for _, op := range diffLines(a, b) {
		fmt.Fprintln(w, op)
	}
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// diffLines is a longest-common-subsequence diff, fine for config files;
// unchanged lines far from a change are left out.
func diffLines(a, b []string) []string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var all []line
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			all = append(all, line{' ', a[i]})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			all = append(all, line{'-', a[i]})
			i++
		default:
			all = append(all, line{'+', b[j]})
			j++
		}
	}
	const context = 2
	near := func(k int) bool {
		for d := -context; d <= context; d++ {
			if k+d >= 0 && k+d < len(all) && all[k+d].op != ' ' {
				return true
			}
		}
		return false
	}
	var out []string
	skipped := false
	for k, l := range all {
		if l.op == ' ' && !near(k) {
			skipped = true
			continue
		}
		if skipped {
			out = append(out, "@@")
			skipped = false
		}
		out = append(out, string(l.op)+l.text)
	}
	return out
}
