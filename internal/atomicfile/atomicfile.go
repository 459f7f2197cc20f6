// Package atomicfile writes files so that a reader, or a crash, sees either
// the old content or the new, never part of it.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write puts data at path with mode perm (exactly: the umask does not
// apply). The directory must exist. A symlink at path is replaced, not
// followed; callers that mean its target resolve it first.
func Write(path string, data []byte, perm fs.FileMode) error {
	p, err := Stage(path, data, perm)
	if err != nil {
		return err
	}
	defer p.Discard()
	return p.Commit()
}

// Pending is a file written and synced beside its destination but not yet
// in place.
type Pending struct {
	tmp, path string
}

// Stage writes data with mode perm to a temporary file beside path. Commit
// puts it in place; Discard removes it. Staging lets a caller make sure the
// file can be written before it does something that needs the file.
func Stage(path string, data []byte, perm fs.FileMode) (*Pending, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	p := &Pending{tmp: f.Name(), path: path}
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		p.Discard()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return p, nil
}

// Commit renames the staged file over the destination.
func (p *Pending) Commit() error {
	if err := os.Rename(p.tmp, p.path); err != nil {
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	return nil
}

// Discard removes the staged file; after Commit it does nothing.
func (p *Pending) Discard() { _ = os.Remove(p.tmp) }
