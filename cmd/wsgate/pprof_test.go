package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

func TestCheckPprofAddr(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"", true},
		{"127.0.0.1:6060", true},
		{"127.1.2.3:0", true},
		{"[::1]:6060", true},
		{"localhost:6060", true},
		{":6060", false},
		{"0.0.0.0:6060", false},
		{"[::]:6060", false},
		{"10.0.0.1:6060", false},
		{"pprof.example.com:6060", false},
		{"6060", false},
	} {
		err := checkPprofAddr(tc.addr, false)
		if (err == nil) != tc.ok {
			t.Errorf("checkPprofAddr(%q) = %v, want ok %v", tc.addr, err, tc.ok)
		}
		if err != nil && tc.addr != "6060" && !strings.Contains(err.Error(), "--pprof-allow-remote") {
			t.Errorf("checkPprofAddr(%q) = %v, does not name --pprof-allow-remote", tc.addr, err)
		}
		if tc.addr != "6060" {
			if err := checkPprofAddr(tc.addr, true); err != nil {
				t.Errorf("checkPprofAddr(%q, allowRemote) = %v", tc.addr, err)
			}
		}
	}
}

// freePort returns a loopback address nobody listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// assertFree fails unless addr can be bound again: nothing was left
// listening on it.
func assertFree(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("%s still bound: %v", addr, err)
		return
	}
	_ = ln.Close()
}

func TestListenPprofLeavesNothingBehind(t *testing.T) {
	sshAddr, httpAddr := freePort(t), freePort(t)
	_, pprofPort, _ := net.SplitHostPort(freePort(t))

	// A remote --pprof-addr is refused before any port is bound.
	f := &serverFlags{sshAddr: sshAddr, httpAddr: httpAddr, pprofAddr: ":" + pprofPort}
	if _, err := listen(f); err == nil || !strings.Contains(err.Error(), "--pprof-allow-remote") {
		t.Fatalf("listen with pprof on %s: %v, want a refusal naming --pprof-allow-remote", f.pprofAddr, err)
	}
	assertFree(t, sshAddr)
	assertFree(t, httpAddr)
	assertFree(t, "127.0.0.1:"+pprofPort)

	// A port that fails after the pprof one was bound releases it again.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	pprofAddr := freePort(t)
	f = &serverFlags{sshAddr: sshAddr, httpAddr: busy.Addr().String(), pprofAddr: pprofAddr}
	if _, err := listen(f); err == nil || !strings.Contains(err.Error(), "listen http") {
		t.Fatalf("listen with a busy http port: %v", err)
	}
	assertFree(t, sshAddr)
	assertFree(t, pprofAddr)
}

func TestServePprofStopsAndWarnsWhenRemote(t *testing.T) {
	var logs testutil.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ln, err := listenPprof("0.0.0.0:0", true)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := servePprof(ln, stop, true, log)
	if !strings.Contains(logs.String(), "anyone who can reach this address can read memory profiles") {
		t.Errorf("no warning for a remote pprof address:\n%s", logs.String())
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	url := "http://127.0.0.1:" + port + "/debug/pprof/"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	http.DefaultClient.CloseIdleConnections()
	close(stop)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("pprof server did not stop")
	}
	if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		_ = c.Close()
		t.Error("pprof port still accepts connections after stop")
	}

	// Loopback needs no warning.
	logs = testutil.Buffer{}
	ln, err = listenPprof("127.0.0.1:0", true)
	if err != nil {
		t.Fatal(err)
	}
	stop = make(chan struct{})
	done = servePprof(ln, stop, true, slog.New(slog.NewTextHandler(&logs, nil)))
	close(stop)
	<-done
	if s := logs.String(); strings.Contains(s, "WARN") || !strings.Contains(s, "pprof listening") {
		t.Errorf("loopback pprof logs:\n%s", s)
	}
}

// TestServerRefusesRemotePprof: both commands that take the server flags
// refuse a non-loopback --pprof-addr at start; server does so before it
// opens the store.
func TestServerRefusesRemotePprof(t *testing.T) {
	for _, args := range [][]string{
		{"server", "--pprof-addr", ":0"},
		{"server", "--pprof-addr", "0.0.0.0:0"},
		{"dev", "--pprof-addr", ":0"},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		cmd := exec.CommandContext(t.Context(), wsgateBin, append(args, "--data-dir", dir, "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")...)
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "is not a loopback address") || !strings.Contains(string(out), "--pprof-allow-remote") {
			t.Errorf("wsgate %v: %v, want a refusal naming --pprof-allow-remote:\n%s", args, err, out)
		}
		if _, err := os.Stat(dir); args[0] == "server" && err == nil {
			t.Errorf("wsgate %v created its data dir before refusing", args)
		}
	}
}

// TestServerPprof runs `wsgate server` with WSGATE_PPROF_ADDR: profiles on
// their own port, none on the API port, and SIGTERM still ends the process.
func TestServerPprof(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(wsgateBin, "server", "--data-dir", dir, "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "WSGATE_PPROF_ADDR=127.0.0.1:0"}
	var out testutil.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-done
		}
	})

	pprofRe := regexp.MustCompile(`msg="pprof listening" .*addr=(\S+)`)
	apiRe := regexp.MustCompile(`msg="gateway listening" .*http=(\S+)`)
	var pprofAddr, apiAddr string
	testutil.WaitFor(t, 30*time.Second, "the server's listening lines", func() bool {
		s := out.String()
		if m := pprofRe.FindStringSubmatch(s); m != nil {
			pprofAddr = m[1]
		}
		if m := apiRe.FindStringSubmatch(s); m != nil {
			apiAddr = m[1]
		}
		return pprofAddr != "" && apiAddr != ""
	})
	if pprofAddr == apiAddr {
		t.Fatalf("pprof shares the API port %s", apiAddr)
	}

	get := func(url string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		return resp.StatusCode, b
	}
	base := "http://" + pprofAddr + "/debug/pprof/"
	code, body := get(base)
	if code != http.StatusOK || !bytes.Contains(body, []byte("heap")) || !bytes.Contains(body, []byte("goroutine")) {
		t.Errorf("GET %s: %d\n%s", base, code, body)
	}
	code, body = get(base + "heap")
	if code != http.StatusOK {
		t.Fatalf("GET heap: %d %s", code, body)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("heap profile is not gzip (a pprof protobuf): %v", err)
	}
	if raw, err := io.ReadAll(zr); err != nil || len(raw) == 0 {
		t.Errorf("heap profile: %d bytes, %v", len(raw), err)
	}
	if code, body := get(base + "heap?debug=1"); code != http.StatusOK || !bytes.HasPrefix(body, []byte("heap profile:")) {
		t.Errorf("GET heap?debug=1: %d\n%.200s", code, body)
	}
	if code, body := get(base + "cmdline"); code != http.StatusOK || !bytes.Contains(body, []byte("server")) {
		t.Errorf("GET cmdline: %d %q", code, body)
	}

	// The public port serves no profile (its web page answers unknown paths).
	api := "http://" + apiAddr + "/debug/pprof/"
	for _, path := range []string{"", "heap", "heap?debug=1", "cmdline", "goroutine?debug=1"} {
		_, body := get(api + path)
		if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) || bytes.Contains(body, []byte("heap profile:")) ||
			bytes.Contains(body, []byte("goroutine profile:")) || bytes.Contains(body, []byte("Types of profiles available")) ||
			bytes.Contains(body, []byte(wsgateBin)) {
			t.Errorf("API port serves a profile at /debug/pprof/%s:\n%.200s", path, body)
		}
	}

	http.DefaultClient.CloseIdleConnections()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Errorf("server exited with %v:\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("server did not stop on SIGTERM:\n%s", out.String())
	}
}
