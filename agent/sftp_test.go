package agent

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
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
	if err != nil || wd != a.cfg.Dir {
		t.Fatalf("sftp working directory %q (%v), want %q", wd, err, a.cfg.Dir)
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
	onDisk, err := os.ReadFile(filepath.Join(a.cfg.Dir, "up.bin"))
	if err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("uploaded file on disk: %d bytes, err %v", len(onDisk), err)
	}

	if err := os.WriteFile(filepath.Join(a.cfg.Dir, "down.txt"), []byte("from the workspace"), 0o644); err != nil {
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
