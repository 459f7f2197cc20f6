// Package sshkey loads and creates ed25519 SSH key files in OpenSSH format,
// for the gateway's host key and the dev users' keys.
package sshkey

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/internal/atomicfile"
)

// LoadOrCreate returns the signer in the private key file at path, creating
// an ed25519 key (mode 0600, with path+".pub" beside it) when the file does
// not exist. comment goes into the .pub line.
func LoadOrCreate(path, comment string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		s, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("parse key %s: %w", path, err)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read key: %w", err)
	}
	return create(path, comment)
}

func create(path, comment string) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key dir: %w", err)
	}
	if err := atomicfile.Write(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	pub := AuthorizedKey(signer.PublicKey(), comment)
	if err := atomicfile.Write(path+".pub", []byte(pub), 0o644); err != nil {
		return nil, err
	}
	return signer, nil
}

// AuthorizedKey formats a public key as one authorized_keys line with an
// optional comment and a trailing newline.
func AuthorizedKey(k ssh.PublicKey, comment string) string {
	line := string(ssh.MarshalAuthorizedKey(k)) // ends in "\n"
	if comment == "" {
		return line
	}
	return line[:len(line)-1] + " " + comment + "\n"
}
