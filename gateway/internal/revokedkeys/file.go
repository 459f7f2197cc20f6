// Package revokedkeys reads an OpenSSH revoked-keys file (sshd's
// RevokedKeys, plain-text form: one public key or certificate per line,
// blank lines and # comments ignored) and reloads it when it changes.
package revokedkeys

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
)

// krlMagic starts a binary OpenSSH KRL, which this package does not read.
var krlMagic = []byte("SSHKRL\n\x00")

// File is a revoked-keys file, as last read. A listed key revokes itself
// and every certificate of that key; a listed certificate revokes its key.
type File struct {
	path string
	log  *slog.Logger

	mu   sync.RWMutex
	fps  map[string]bool // SHA256 fingerprints
	stat fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// Load reads the file at path; an unreadable or malformed file is an error.
func Load(path string, log *slog.Logger) (*File, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &File{path: path, log: log}
	if _, err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Len is the number of revoked keys.
func (f *File) Len() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.fps)
}

// Revoked reports whether id was made with a revoked key (a certificate's
// certified key included).
func (f *File) Revoked(id acl.Identity) bool {
	if id.KeyFingerprint == "" {
		return false
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.fps[id.KeyFingerprint]
}

// Watch checks the file every interval until ctx ends and reloads it when
// its size or modification time changed; after each successful reload it
// calls changed. A file that fails to parse keeps the previous list (and
// is logged): a half-written file must not un-revoke anything.
func (f *File) Watch(ctx context.Context, interval time.Duration, changed func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := f.reload()
		switch {
		case err != nil:
			f.log.Warn("revoked keys file not reloaded; keeping the previous list", "path", f.path, "err", err)
		case ok:
			f.log.Info("revoked keys file reloaded", "path", f.path, "keys", f.Len())
			if changed != nil {
				changed()
			}
		}
	}
}

// reload reads the file when it changed since the last read; true when it
// was read.
func (f *File) reload() (bool, error) {
	st, err := os.Stat(f.path)
	if err != nil {
		return false, fmt.Errorf("revoked keys: %w", err)
	}
	stamp := fileStamp{mod: st.ModTime(), size: st.Size()}
	f.mu.RLock()
	same := f.fps != nil && f.stat == stamp
	f.mu.RUnlock()
	if same {
		return false, nil
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return false, fmt.Errorf("revoked keys: %w", err)
	}
	fps, err := Parse(data)
	if err != nil {
		return false, fmt.Errorf("revoked keys %s: %w", f.path, err)
	}
	f.mu.Lock()
	f.fps, f.stat = fps, stamp
	f.mu.Unlock()
	return true, nil
}

// Parse reads the plain-text revoked-keys format and returns the SHA256
// fingerprints it revokes.
func Parse(data []byte) (map[string]bool, error) {
	if bytes.HasPrefix(data, krlMagic) {
		return nil, errors.New("binary KRL files are not supported; list the revoked public keys, one per line (the plain-text RevokedKeys format)")
	}
	fps := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, _, _, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if cert, ok := key.(*ssh.Certificate); ok {
			key = cert.Key
		}
		fps[ssh.FingerprintSHA256(key)] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return fps, nil
}
