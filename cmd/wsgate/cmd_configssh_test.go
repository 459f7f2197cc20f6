package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/acl"
)

// sshG resolves host with `ssh -G -F file` and returns the options asked.
func sshG(t *testing.T, file, host string, keys ...string) map[string]string {
	t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ssh is missing")
		}
		t.Skip("ssh is missing")
	}
	out, err := exec.CommandContext(t.Context(), "ssh", "-G", "-F", file, host).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh -G %s: %v\n%s", host, err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, " ")
		for _, want := range keys {
			if k == want {
				got[k] = v
			}
		}
	}
	return got
}

const userText = "# my own settings\nHost example\n  User me\n"

func TestConfigSSH(t *testing.T) {
	c, id := sharingEnv(t)
	c.grant(id, acl.SubjectUser, "bob", acl.RoleUse)
	c.workspace("bob", "bob-ws")
	// Two workspaces named proj shared with bob: only owner--name aliases.
	for _, owner := range []string{"carol", "dave"} {
		c.grant(c.workspace(owner, "proj"), acl.SubjectUser, "bob", acl.RoleUse)
	}
	c.workspace("carol", "hidden") // not shared with bob

	dir := t.TempDir()
	file := filepath.Join(dir, "config")
	if err := os.WriteFile(file, []byte(userText), 0o640); err != nil {
		t.Fatal(err)
	}

	// Dry run: shows the block, writes nothing.
	out := c.ok("bob", "config-ssh", "--ssh-config-file", file, "--dry-run")
	if !strings.Contains(out, "+"+sshBlockStart) || !strings.Contains(out, "+Host alice-ws.coder alice--alice-ws.coder") {
		t.Errorf("dry-run diff:\n%s", out)
	}
	if data, _ := os.ReadFile(file); string(data) != userText {
		t.Fatalf("dry run wrote the file:\n%s", data)
	}
	// Declining writes nothing either.
	r := c.runEnv("bob", nil, "n\n", "config-ssh", "--ssh-config-file", file)
	if r.code == 0 || !strings.Contains(r.stderr, "not written") {
		t.Errorf("declined: exit %d, stderr %q", r.code, r.stderr)
	}
	if data, _ := os.ReadFile(file); string(data) != userText {
		t.Fatalf("declined run wrote the file:\n%s", data)
	}
	// Accepting writes.
	r = c.runEnv("bob", nil, "y\n", "config-ssh", "--ssh-config-file", file)
	if r.code != 0 {
		t.Fatalf("config-ssh: %d %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(file)
	c.must(err)
	if !strings.HasPrefix(string(data), userText) {
		t.Errorf("text outside the block changed:\n%s", data)
	}
	fi, err := os.Stat(file)
	c.must(err)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", fi.Mode().Perm())
	}

	for host, want := range map[string]string{
		"alice-ws.coder":        "alice--alice-ws",
		"alice--alice-ws.coder": "alice--alice-ws",
		"bob-ws.coder":          "bob--bob-ws",
		"carol--proj.coder":     "carol--proj",
		"dave--proj.coder":      "dave--proj",
	} {
		got := sshG(t, file, host, "hostname", "port", "user", "ciphers")
		if got["hostname"] != "127.0.0.1" || got["port"] != "2222" || got["user"] != want || got["ciphers"] != sshCiphers {
			t.Errorf("%s resolves to %v, want 127.0.0.1:2222 as %s with ciphers %s", host, got, want, sshCiphers)
		}
	}
	// Ambiguous bare names and unshared workspaces get no entry.
	for _, host := range []string{"proj.coder", "carol--hidden.coder"} {
		if got := sshG(t, file, host, "hostname"); got["hostname"] != host {
			t.Errorf("%s resolves to %v, want no entry", host, got)
		}
	}
	if got := sshG(t, file, "example", "user"); got["user"] != "me" {
		t.Errorf("user's own entry broken: %v", got)
	}

	// Idempotent.
	out = c.ok("bob", "config-ssh", "--ssh-config-file", file, "-y")
	if !strings.Contains(out, "is up to date") {
		t.Errorf("second run: %s", out)
	}
	again, err := os.ReadFile(file)
	c.must(err)
	if string(again) != string(data) {
		t.Error("second run changed the file")
	}

	// A change replaces the block in place; text after it stays too.
	c.must(os.WriteFile(file, append(again, []byte("Host after\n  User later\n")...), 0o640))
	c.grant(id, acl.SubjectUser, "bob", acl.RoleNone)
	out = c.ok("bob", "config-ssh", "--ssh-config-file", file, "-y", "--hostname-suffix", "ws")
	if !strings.Contains(out, "-Host alice-ws.coder alice--alice-ws.coder") {
		t.Errorf("diff does not show the removed entry:\n%s", out)
	}
	final, err := os.ReadFile(file)
	c.must(err)
	s := string(final)
	if !strings.HasPrefix(s, userText) || !strings.HasSuffix(s, sshBlockEnd+"\nHost after\n  User later\n") ||
		strings.Count(s, sshBlockStart) != 1 || strings.Contains(s, "alice-ws") || !strings.Contains(s, "Host bob-ws.ws bob--bob-ws.ws") {
		t.Errorf("after change:\n%s", s)
	}
	if got := sshG(t, file, "after", "user"); got["user"] != "later" {
		t.Errorf("entry after the block broken: %v", got)
	}
}

// TestConfigSSHCiphers: every entry, direct or through --use-https's
// ProxyCommand, puts AES-GCM first, and ssh reads it so; entries outside
// the block keep ssh's own order.
func TestConfigSSHCiphers(t *testing.T) {
	c, id := sharingEnv(t)
	c.grant(id, acl.SubjectUser, "bob", acl.RoleUse)
	c.workspace("bob", "bob-ws")
	for _, tc := range []struct {
		name  string
		flags []string
		proxy bool
	}{
		{"direct", nil, false},
		{"use-https", []string{"--use-https"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "config")
			c.must(os.WriteFile(file, []byte(userText), 0o600))
			c.ok("bob", append([]string{"config-ssh", "--ssh-config-file", file, "-y"}, tc.flags...)...)
			data, err := os.ReadFile(file)
			c.must(err)
			block := string(data)[strings.Index(string(data), sshBlockStart):]
			hosts := strings.Count(block, "\nHost ")
			if n := strings.Count(block, "\n  Ciphers "+sshCiphers+"\n"); hosts != 2 || n != hosts {
				t.Errorf("%d Host entries, %d with the cipher line, want 2 and 2:\n%s", hosts, n, block)
			}
			if got := strings.Contains(block, "\n  ProxyCommand "); got != tc.proxy {
				t.Errorf("ProxyCommand entries: %v, want %v:\n%s", got, tc.proxy, block)
			}
			for _, host := range []string{"alice-ws.coder", "alice--alice-ws.coder", "bob-ws.coder"} {
				got := sshG(t, file, host, "ciphers", "proxycommand")
				if got["ciphers"] != sshCiphers || (got["proxycommand"] != "" && got["proxycommand"] != "none") != tc.proxy {
					t.Errorf("%s resolves to %v, want ciphers %s, a proxy command %v", host, got, sshCiphers, tc.proxy)
				}
			}
			if got := sshG(t, file, "example", "ciphers"); got["ciphers"] == sshCiphers || got["ciphers"] == "" {
				t.Errorf("the user's own entry got ciphers %q", got["ciphers"])
			}
		})
	}
}

func TestConfigSSHRefusesBrokenMarkers(t *testing.T) {
	c, _ := sharingEnv(t)
	file := filepath.Join(t.TempDir(), "config")
	broken := userText + sshBlockStart + "\nHost x\n"
	c.must(os.WriteFile(file, []byte(broken), 0o600))
	c.fails("alice", "unpaired", "config-ssh", "--ssh-config-file", file, "-y")
	data, err := os.ReadFile(file)
	c.must(err)
	if string(data) != broken {
		t.Error("file changed")
	}
}

func TestConfigSSHNewFileAndSymlink(t *testing.T) {
	c, _ := sharingEnv(t)
	// The default path is ~/.ssh/config, created 0600 with its directory.
	c.ok("alice", "config-ssh", "-y")
	file := filepath.Join(c.home("alice"), ".ssh", "config")
	fi, err := os.Stat(file)
	c.must(err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v", fi.Mode().Perm())
	}
	if got := sshG(t, file, "alice-ws.coder", "user"); got["user"] != "alice--alice-ws" {
		t.Errorf("resolves to %v", got)
	}
	// A symlinked config stays a symlink; its target is updated.
	dir := t.TempDir()
	target := filepath.Join(dir, "real")
	c.must(os.WriteFile(target, []byte(userText), 0o600))
	link := filepath.Join(dir, "link")
	c.must(os.Symlink(target, link))
	c.ok("alice", "config-ssh", "--ssh-config-file", link, "-y")
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link replaced: %v %v", fi, err)
	}
	if data, _ := os.ReadFile(target); !strings.Contains(string(data), sshBlockStart) {
		t.Error("target not updated")
	}
}

func TestDiffLines(t *testing.T) {
	got := strings.Join(diffLines(strings.Split("a b c d e f g h", " "), strings.Split("a b c X e f g h", " ")), "|")
	if got != "@@| b| c|-d|+X| e| f" {
		t.Errorf("diff %q", got)
	}
}

// TestConfigSSHBeforeCatchAll: the block goes before the user's `Host *`,
// whose User and Port would otherwise win; a block found after one is
// moved; entries name the identity file and the managed known_hosts file
// under one HostKeyAlias, which holds the gateway's host key.
func TestConfigSSHBeforeCatchAll(t *testing.T) {
	c, id := sharingEnv(t)
	c.grant(id, acl.SubjectUser, "bob", acl.RoleUse)
	dir := t.TempDir()
	file := filepath.Join(dir, "config")
	star := "Host *\n  User nobody\n  Port 1\n"
	c.must(os.WriteFile(file, []byte(userText+"\n"+star), 0o600))
	key := filepath.Join(dir, "my key")
	c.ok("bob", "config-ssh", "--ssh-config-file", file, "-y", "--identity-file", key)
	data, err := os.ReadFile(file)
	c.must(err)
	if s := string(data); !strings.HasPrefix(s, userText+"\n"+sshBlockStart) || !strings.HasSuffix(s, sshBlockEnd+"\n\n"+star) {
		t.Fatalf("block not placed before Host *:\n%s", s)
	}
	kh := filepath.Join(dir, "wsgate_known_hosts")
	got := sshG(t, file, "alice-ws.coder", "user", "port", "identityfile", "userknownhostsfile", "hostkeyalias")
	if got["user"] != "alice--alice-ws" || got["port"] != "2222" || got["identityfile"] != key ||
		got["userknownhostsfile"] != kh || !strings.HasPrefix(got["hostkeyalias"], "wsgate-") {
		t.Errorf("alice-ws.coder resolves to %v", got)
	}
	khData, err := os.ReadFile(kh)
	c.must(err)
	if !strings.Contains(string(khData), got["hostkeyalias"]+" ssh-") {
		t.Errorf("known_hosts %s has no host key under %s:\n%s", kh, got["hostkeyalias"], khData)
	}

	// A block the user moved after `Host *` is moved back before it.
	block := string(data)[strings.Index(string(data), sshBlockStart) : strings.Index(string(data), sshBlockEnd)+len(sshBlockEnd)+1]
	c.must(os.WriteFile(file, []byte(userText+star+block), 0o600))
	c.ok("bob", "config-ssh", "--ssh-config-file", file, "-y", "--identity-file", key)
	data, err = os.ReadFile(file)
	c.must(err)
	if s := string(data); strings.Index(s, sshBlockStart) > strings.Index(s, "Host *") || strings.Count(s, sshBlockStart) != 1 {
		t.Fatalf("block after Host * not moved:\n%s", s)
	}
}

func TestReplaceSSHBlockMatchAll(t *testing.T) {
	block := sshBlockStart + "\nHost a\n" + sshBlockEnd + "\n"
	got, err := replaceSSHBlock("Host x\n  User y\nmatch ALL\n  User z\n", block)
	if err != nil || got != "Host x\n  User y\n\n"+block+"\nmatch ALL\n  User z\n" {
		t.Errorf("got %q, %v", got, err)
	}
	got, err = replaceSSHBlock("Host=*\n", block)
	if err != nil || got != block+"\nHost=*\n" {
		t.Errorf("got %q, %v", got, err)
	}
}
