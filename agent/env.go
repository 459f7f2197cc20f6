package agent

import (
	"os"
	"strings"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// acceptEnv reports whether a variable the client sends with an "env"
// request is passed to the session, like sshd's AcceptEnv LANG LC_* TERM.
// Everything else could change how the shell or its programs behave
// (LD_PRELOAD, BASH_ENV, PATH) and is ignored.
func acceptEnv(key string) bool {
	if key == "" || strings.ContainsAny(key, "=\x00") {
		return false
	}
	return key == "LANG" || key == "TERM" || strings.HasPrefix(key, "LC_")
}

// envList is an ordered environment in which a later Set replaces an
// earlier one.
type envList struct {
	keys []string
	vals map[string]string
}

func (e *envList) Set(key, val string) {
	if e.vals == nil {
		e.vals = make(map[string]string)
	}
	if _, ok := e.vals[key]; !ok {
		e.keys = append(e.keys, key)
	}
	e.vals[key] = val
}

func (e *envList) Environ() []string {
	out := make([]string, 0, len(e.keys))
	for _, k := range e.keys {
		out = append(out, k+"="+e.vals[k])
	}
	return out
}

// sessionEnv is what a session's process starts with. The agent's own
// environment is not inherited: only the identity of its OS user, the
// accepted client variables, and what wsgate itself sets.
type sessionEnv struct {
	user      osUser
	shell     string
	wsUser    string
	workspace string
	client    [][2]string // accepted "env" requests, in order
	term      string      // from pty-req; wins over a client TERM
	authSock  string
	// runtimeDir is the workspace's own XDG_RUNTIME_DIR and TMUX_TMPDIR.
	runtimeDir string
}

func (s sessionEnv) Environ() []string {
	var e envList
	path := os.Getenv("PATH")
	if path == "" {
		path = defaultPath
	}
	e.Set("HOME", s.user.home)
	e.Set("USER", s.user.name)
	e.Set("LOGNAME", s.user.name)
	e.Set("SHELL", s.shell)
	e.Set("PATH", path)
	for _, kv := range s.client {
		e.Set(kv[0], kv[1])
	}
	if s.term != "" {
		e.Set("TERM", s.term)
	}
	e.Set("WSGATE_USER", s.wsUser)
	if s.workspace != "" {
		e.Set("WSGATE_WORKSPACE", s.workspace)
	}
	if s.authSock != "" {
		e.Set("SSH_AUTH_SOCK", s.authSock)
	}
	if s.runtimeDir != "" {
		e.Set("XDG_RUNTIME_DIR", s.runtimeDir)
		e.Set("TMUX_TMPDIR", s.runtimeDir)
	}
	return e.Environ()
}
