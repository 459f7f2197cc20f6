package agent

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"testing"

	"github.com/pkg/sftp"
)

func TestSFTPRoundTrip(t *testing.T) {
	a := newTestAgent(t)
	s := newSession(t, dialConn(t, a))
	if err := s.Subsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	sc, err := sftp.NewClientPipe(s.ch, s.ch)
	if err != nil {
		t.Fatalf("sftp: %v", err)
	}
	defer sc.Close()

	wd, err := sc.Getwd()
	if err != nil || wd != a.cfg.Home {
		t.Fatalf("sftp working directory %q (%v), want the home %q", wd, err, a.cfg.Home)
	}
	data := make([]byte, 300_000)
	_, _ = rand.Read(data)
	f, err := sc.Create("up.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(filepath.Join(a.cfg.Home, "up.bin"))
	if err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("uploaded file on disk: %d bytes, err %v", len(onDisk), err)
	}

	if err := os.WriteFile(filepath.Join(a.cfg.Home, "down.txt"), []byte("from the workspace"), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := sc.Open("down.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(g)
	g.Close()
	if err != nil || string(got) != "from the workspace" {
		t.Fatalf("download: %q %v", got, err)
	}
}

// sftpSession is an SFTP client on a new session of a.
func sftpSession(t *testing.T, a *Agent) *sftp.Client {
	t.Helper()
	s := newSession(t, dialConn(t, a))
	if err := s.Subsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	sc, err := sftp.NewClientPipe(s.ch, s.ch)
	if err != nil {
		t.Fatalf("sftp: %v", err)
	}
	t.Cleanup(func() { sc.Close() })
	return sc
}

// Symlink targets are stored as given, in OpenSSH's argument order
// (pkg/sftp's client sends that order too); `~` is the home in every path;
// expand-path@openssh.com is announced and answers like OpenSSH's server.
func TestSFTPSymlinkTildeExpand(t *testing.T) {
	a := newTestAgent(t)
	sc := sftpSession(t, a)
	home := a.cfg.Home
	if err := os.WriteFile(filepath.Join(home, "renamed.bin"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sc.Symlink("renamed.bin", "link.bin"); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(filepath.Join(home, "link.bin")); err != nil || got != "renamed.bin" {
		t.Fatalf("link target %q (%v), want the relative renamed.bin", got, err)
	}
	if err := sc.Symlink("../elsewhere", "~/up.lnk"); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(filepath.Join(home, "up.lnk")); err != nil || got != "../elsewhere" {
		t.Fatalf("link made at ~/up.lnk: %q (%v)", got, err)
	}

	f, err := sc.Create("~/tilde.txt")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := os.Stat(filepath.Join(home, "tilde.txt")); err != nil {
		t.Fatalf("~/tilde.txt not in the home: %v", err)
	}
	if err := sc.Rename("~/tilde.txt", "~/moved.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, "moved.txt")); err != nil {
		t.Fatalf("rename ~/tilde.txt ~/moved.txt: %v", err)
	}
	if fi, err := sc.Stat("~"); err != nil || !fi.IsDir() {
		t.Fatalf("stat ~: %v %v", fi, err)
	}

	if v, ok := sc.HasExtension(extExpandPath); !ok || v != "1" {
		t.Fatalf("expand-path@openssh.com not announced (%q %v)", v, ok)
	}
	for in, want := range map[string]string{"~": home, "~/a/../b": filepath.Join(home, "b")} {
		if got, err := sc.RealPath(in); err != nil || got != want {
			t.Errorf("realpath %q = %q (%v), want %q", in, got, err, want)
		}
	}
}

// expand-path@openssh.com, spoken on the wire: ~, ~/x, ~user and relative
// paths come back absolute; an unknown user is an error.
func TestSFTPExpandPath(t *testing.T) {
	home := t.TempDir()
	cr, cw := io.Pipe() // client -> server
	sr, sw := io.Pipe() // server -> client
	done := make(chan error, 1)
	go func() { done <- ServeSFTP(cr, sw, home) }()
	t.Cleanup(func() {
		cw.Close()
		if err := <-done; err != nil {
			t.Errorf("ServeSFTP: %v", err)
		}
	})
	send := func(b []byte) {
		if _, err := cw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() []byte {
		p, err := readSFTPPacket(sr)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	send([]byte{0, 0, 0, 5, 1, 0, 0, 0, 3}) // INIT, version 3
	if v := recv(); v[4] != fxpVersion || !bytes.Contains(v, []byte(extExpandPath)) {
		t.Fatalf("VERSION %q does not announce %s", v, extExpandPath)
	}
	root, err := user.LookupId("0")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"~": home, "~/x/../y": filepath.Join(home, "y"), "rel/z": filepath.Join(home, "rel/z"),
		"~" + root.Username + "/k": filepath.Join(root.HomeDir, "k"), "/abs": "/abs",
	}
	id := uint32(10)
	for in, want := range cases {
		id++
		body := appendString(nil, extExpandPath)
		send(packet(fxpExtended, id, appendString(body, in)))
		p := recv()
		if p[4] != fxpName {
			t.Fatalf("expand-path %q: reply type %d", in, p[4])
		}
		got, _, _ := takeString(p[13:]) // length, type, id, count
		if got != want {
			t.Errorf("expand-path %q = %q, want %q", in, got, want)
		}
	}
	send(packet(fxpExtended, 99, appendString(appendString(nil, extExpandPath), "~wsgate-no-such-user/x")))
	if p := recv(); p[4] != fxpStatus {
		t.Fatalf("expand-path of an unknown user: reply type %d, want a status", p[4])
	}
}
