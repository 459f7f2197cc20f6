package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/internal/atomicfile"
)

// hostKeyAlias is the one name config-ssh's entries check the gateway's
// host key under (HostKeyAlias), whatever alias or ProxyCommand reached
// it: apiHost is the API URL's host[:port].
func hostKeyAlias(apiHost string) string {
	return "wsgate-" + strings.NewReplacer(":", "-", "[", "", "]", "").Replace(apiHost)
}

// writeKnownHosts writes the managed known_hosts file: the gateway's host
// keys under alias. Nothing else is kept in it.
func writeKnownHosts(out io.Writer, file, alias string, keys []string) error {
	if len(keys) == 0 {
		fmt.Fprintln(out, "The gateway did not send its host key: ssh will ask to trust it on the first connection.")
		return nil
	}
	var b strings.Builder
	b.WriteString("# Managed by `wsgate config-ssh`: the gateway's SSH host keys; rewritten on every run.\n")
	for _, k := range keys {
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k)); err != nil {
			return fmt.Errorf("host key from the gateway: %w", err)
		}
		fmt.Fprintf(&b, "%s %s\n", alias, strings.TrimSpace(k))
	}
	if old, err := os.ReadFile(file); err == nil && string(old) == b.String() {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(file), err)
	}
	if err := atomicfile.Write(file, []byte(b.String()), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(out, "Wrote %s.\n", file)
	return nil
}

// findIdentityFile is the first private key in ~/.ssh whose public half
// (KEY.pub) is registered to the caller's account, or "" when there is
// none: ssh then tries its defaults and the agent.
func findIdentityFile(ctx context.Context, c *apiclient.Client) string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	keys, err := c.ListKeys(ctx, "me")
	if err != nil || len(keys) == 0 {
		return ""
	}
	registered := map[string]bool{}
	for _, k := range keys {
		registered[k.Fingerprint] = true
	}
	pubs, _ := filepath.Glob(filepath.Join(home, ".ssh", "*.pub"))
	for _, pub := range pubs {
		b, err := os.ReadFile(pub)
		if err != nil {
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(b)
		if err != nil || !registered[ssh.FingerprintSHA256(k)] {
			continue
		}
		if priv := strings.TrimSuffix(pub, ".pub"); fileExists(priv) {
			return priv
		}
	}
	return ""
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// sshConfigQuote quotes a path for ssh_config when it needs it.
func sshConfigQuote(s string) string {
	if strings.ContainsAny(s, " \t\"#") {
		return `"` + s + `"`
	}
	return s
}
