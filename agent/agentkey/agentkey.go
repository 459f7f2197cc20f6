// Package agentkey keeps an agent's identity on disk: the key pair the
// gateway pinned for its workspace, the workspace's UID, a replacement key
// the gateway asked for and has not yet seen used, and which enrolment
// token was used, so a restart with the same token signs instead of
// enrolling again. One JSON file, mode 0600, written atomically; it
// implements tunnel.AgentIdentity.
package agentkey

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/internal/atomicfile"
)

// maxOlder bounds the unused rotation keys kept besides Next.
const maxOlder = 3

// state is the file's content. Keys are OpenSSH PEM private keys.
type state struct {
	WorkspaceUID string `json:"workspace_uid,omitempty"`
	Key          string `json:"key,omitempty"`  // the key the gateway pinned
	Next         string `json:"next,omitempty"` // the newest rotation's key, not yet used
	// Older are earlier rotations' keys not yet used (newest first, a
	// few): a rotation whose answer was lost or lost a race may still be
	// the one pinned.
	Older   []string `json:"older,omitempty"`
	Pending string   `json:"pending,omitempty"` // an enrolment's key, not yet pinned
	// EnrolledWith is a hash of the token that enrolled Key.
	EnrolledWith string `json:"enrolled_with,omitempty"`
}

// Store is one agent's identity file.
type Store struct {
	path  string
	token string // this run's enrolment token; "" for none

	mu sync.Mutex
	st state
}

// Open reads the identity file at path (none yet is fine: the agent must
// enrol) and keeps token, this run's enrolment token ("" for none). The
// directory is created 0700.
func Open(path, token string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("agent state dir: %w", err)
	}
	s := &Store{path: path, token: token}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("read agent key file: %w", err)
	}
	if err := json.Unmarshal(raw, &s.st); err != nil {
		return nil, fmt.Errorf("agent key file %s: %w", path, err)
	}
	return s, nil
}

// Path is the identity file.
func (s *Store) Path() string { return s.path }

// FileName is the identity file's name for workspace ("owner/name", or ""
// for an agent not told its workspace): one host may run several agents
// in one state directory.
func FileName(workspace string) string {
	if workspace == "" {
		return "agent.json"
	}
	return "agent-" + strings.ReplaceAll(workspace, "/", "--") + ".json"
}

// DefaultDir is where an agent keeps its identity unless told otherwise:
// /var/lib/wsgate/agent for root, else $XDG_STATE_HOME/wsgate/agent
// (~/.local/state/wsgate/agent). Never inside a workspace's files.
func DefaultDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/wsgate/agent"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "wsgate", "agent")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "wsgate", "agent")
	}
	return filepath.Join(os.TempDir(), "wsgate-agent")
}

// HasKey reports whether the file holds a pinned key.
func (s *Store) HasKey() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Key != "" && s.st.WorkspaceUID != ""
}

// Enrolment implements tunnel.AgentIdentity: a token this identity was not
// enrolled with enrols, with a new key.
func (s *Store) Enrolment() (string, ssh.PublicKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == "" || (s.st.Key != "" && s.st.EnrolledWith == tokenHash(s.token)) {
		return "", nil, false
	}
	if s.st.Pending == "" {
		pem, err := newKey()
		if err != nil {
			return "", nil, false
		}
		s.st.Pending = pem
		if err := s.save(); err != nil {
			s.st.Pending = ""
			return "", nil, false
		}
	}
	signer, err := parse(s.st.Pending)
	if err != nil {
		return "", nil, false
	}
	return s.token, signer.PublicKey(), true
}

// Enrolled implements tunnel.AgentIdentity.
func (s *Store) Enrolled(uid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.st
	next.WorkspaceUID, next.Key, next.Next, next.Pending, next.Older = uid, s.st.Pending, "", "", nil
	next.EnrolledWith = tokenHash(s.token)
	return s.commit(next)
}

// Signers implements tunnel.AgentIdentity: a rotation's key first, then
// the pinned one.
func (s *Store) Signers() (string, []ssh.Signer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ssh.Signer
	for _, k := range append(append([]string{s.st.Next}, s.st.Older...), s.st.Key) {
		if k == "" {
			continue
		}
		if signer, err := parse(k); err == nil {
			out = append(out, signer)
		}
	}
	return s.st.WorkspaceUID, out
}

// Authenticated implements tunnel.AgentIdentity: once a rotation's key
// opened a tunnel, the old key goes.
func (s *Store) Authenticated(pub ssh.PublicKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range append([]string{s.st.Next}, s.st.Older...) {
		if k == "" {
			continue
		}
		signer, err := parse(k)
		if err != nil || string(signer.PublicKey().Marshal()) != string(pub.Marshal()) {
			continue
		}
		next := s.st
		next.Key, next.Next, next.Older = k, "", nil
		return s.commit(next)
	}
	return nil
}

// Rotate makes a new key (replacing an earlier rotation's that was never
// used), keeps the pinned one, and returns the new public key in
// authorized_keys format. It is agent.Config.RotateKey.
func (s *Store) Rotate() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.Key == "" {
		return "", errors.New("this agent has no pinned key to replace")
	}
	pem, err := newKey()
	if err != nil {
		return "", err
	}
	signer, err := parse(pem)
	if err != nil {
		return "", err
	}
	next := s.st
	if s.st.Next != "" {
		next.Older = append([]string{s.st.Next}, s.st.Older...)[:min(len(s.st.Older)+1, maxOlder)]
	}
	next.Next = pem
	if err := s.commit(next); err != nil {
		return "", err
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))), nil
}

// commit saves next and makes it the state; on failure nothing changes.
func (s *Store) commit(next state) error {
	old := s.st
	s.st = next
	if err := s.save(); err != nil {
		s.st = old
		return err
	}
	return nil
}

func (s *Store) save() error {
	raw, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(s.path, append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("write agent key file: %w", err)
	}
	return nil
}

func newKey() (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate agent key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "wsgate agent")
	if err != nil {
		return "", fmt.Errorf("encode agent key: %w", err)
	}
	return string(pem.EncodeToMemory(block)), nil
}

func parse(pemText string) (ssh.Signer, error) {
	signer, err := ssh.ParsePrivateKey([]byte(pemText))
	if err != nil {
		return nil, fmt.Errorf("agent key file: %w", err)
	}
	return signer, nil
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte("wsgate-agent-enrolment\x00" + token))
	return hex.EncodeToString(h[:])
}
