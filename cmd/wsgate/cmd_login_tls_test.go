package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// storedLogin reads the CLI config `wsgate login` wrote for user.
func (c *cliEnv) storedLogin(user string) (cliConfig, error) {
	var cfg cliConfig
	data, err := os.ReadFile(filepath.Join(c.home(user), ".config", "wsgate", "config.json"))
	if err != nil {
		return cfg, err
	}
	return cfg, json.Unmarshal(data, &cfg)
}

func TestLoginWithPrivateCA(t *testing.T) {
	ca := devCA(t, "127.0.0.1")
	env := newCLIEnvServing(t, serveTLS(t, ca))
	env.user("alice", true)
	tok := env.tokens["alice"]

	// Untrusted: refused with the explanation, nothing stored.
	r := env.runEnv("", nil, "", "login", env.url, "--token", tok)
	if r.code == 0 || !strings.Contains(r.stderr, "certificate signed by unknown authority") || !strings.Contains(r.stderr, "--ca-file") {
		t.Fatalf("login without the CA: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := env.storedLogin(""); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a failed login stored something: %v", err)
	}

	// Plain HTTP to the TLS port: told to use https://.
	plain := strings.Replace(env.url, "https://", "http://", 1)
	r = env.runEnv("", nil, "", "login", plain, "--token", tok, "--ca-file", ca.CA)
	if r.code == 0 || !strings.Contains(r.stderr, "use an https:// URL") {
		t.Fatalf("login over http:// to the TLS port: exit %d, stderr %q", r.code, r.stderr)
	}

	// Trusted through a relative --ca-file, stored as an absolute path.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, ca.CA)
	if err != nil {
		t.Fatal(err)
	}
	r = env.runEnv("", nil, "", "login", env.url, "--token", tok, "--ca-file", rel)
	if r.code != 0 || !strings.Contains(r.stdout, "as alice") {
		t.Fatalf("login with the CA: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	stored, err := env.storedLogin("")
	if err != nil || stored.CAFile != ca.CA || stored.URL != env.url {
		t.Fatalf("stored login %+v, %v; want ca_file %s", stored, err, ca.CA)
	}

	// Later commands trust the stored CA; WSGATE_CA_FILE overrides it.
	if r := env.runEnv("", nil, "", "users", "list"); r.code != 0 || !strings.Contains(r.stdout, "alice") {
		t.Fatalf("users list after login: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	if r := env.runEnv("", []string{envCAFile + "=" + missing}, "", "users", "list"); r.code == 0 || !strings.Contains(r.stderr, "read CA file") {
		t.Fatalf("users list with a missing %s: exit %d, stderr %q", envCAFile, r.code, r.stderr)
	}
	other := devCA(t, "127.0.0.1")
	if r := env.runEnv("", []string{envCAFile + "=" + other.CA}, "", "users", "list"); r.code == 0 || !strings.Contains(r.stderr, "--ca-file") {
		t.Fatalf("users list trusting another CA: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestLoginCAFromEnvironmentIsNotStored(t *testing.T) {
	ca := devCA(t, "127.0.0.1")
	env := newCLIEnvServing(t, serveTLS(t, ca))
	env.user("alice", false)

	r := env.runEnv("", []string{envCAFile + "=" + ca.CA}, "", "login", env.url, "--token", env.tokens["alice"])
	if r.code != 0 {
		t.Fatalf("login with %s: exit %d, stderr %q", envCAFile, r.code, r.stderr)
	}
	stored, err := env.storedLogin("")
	if err != nil || stored.CAFile != "" {
		t.Fatalf("stored login %+v, %v; want no ca_file", stored, err)
	}
}
