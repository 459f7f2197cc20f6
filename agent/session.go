package agent

import (
	"errors"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// killGrace is how long a program may take to end after the hang-up that
// follows its channel's close before it is killed.
const killGrace = 2 * time.Second

// maxClientEnv bounds the env requests one session keeps.
const maxClientEnv = 64

// session is one "session" channel: at most one program (shell, exec or
// subsystem) with its requests.
type session struct {
	c   *userConn
	ch  *chanwire.Channel
	log *slog.Logger

	// Owned by the request loop; frozen once the program has started.
	clientEnv [][2]string
	pty       *ptyRequest
	agentFwd  bool
	started   bool

	win  *winSlot
	gone chan struct{} // closed when the request loop ends: channel or connection closed
	done chan struct{} // closed when the program's runner has finished

	mu     sync.Mutex
	proc   *os.Process // the program, while it runs
	exited bool
}

func (c *userConn) handleSession(nc *chanwire.NewChannel) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		c.log.Debug("accept session channel", "err", err)
		return
	}
	s := &session{
		c:    c,
		ch:   ch,
		log:  c.chanLog("session"),
		win:  newWinSlot(),
		gone: make(chan struct{}),
		done: make(chan struct{}),
	}
	defer c.a.stats.session(c.hdr.User)()
	s.serve(reqs)
}

// serve is the request loop. Nothing in it blocks on the program or on the
// client: signals are a syscall, window changes land in a slot, and the
// program's I/O runs in its own goroutines.
func (s *session) serve(reqs <-chan *chanwire.Request) {
	for req := range reqs {
		ok, after := s.handle(req)
		_ = req.Reply(ok, nil)
		if after != nil {
			go func() {
				defer close(s.done)
				after()
			}()
		}
	}
	close(s.gone)
	if !s.started {
		_ = s.ch.Close()
		return
	}
	s.hangUp()
	<-s.done
}

// handle answers one request. after, if set, runs the started program; it
// is called once the reply is on the wire, so the reply comes before output.
func (s *session) handle(req *chanwire.Request) (ok bool, after func()) {
	switch req.Type {
	case "pty-req":
		var p ptyRequest
		if s.started || s.pty != nil || gossh.Unmarshal(req.Payload, &p) != nil {
			return false, nil
		}
		s.pty = &p
		s.win.set(window{Cols: p.Cols, Rows: p.Rows, Width: p.Width, Height: p.Height})
		return true, nil
	case "window-change":
		var w window
		if s.pty == nil || gossh.Unmarshal(req.Payload, &w) != nil {
			return false, nil
		}
		s.win.set(w)
		return true, nil
	case "env":
		var kv struct{ Key, Value string }
		if s.started || gossh.Unmarshal(req.Payload, &kv) != nil {
			return false, nil
		}
		if !acceptEnv(kv.Key) || len(s.clientEnv) >= maxClientEnv {
			s.log.Debug("env ignored", "key", kv.Key)
			return false, nil
		}
		s.clientEnv = append(s.clientEnv, [2]string{kv.Key, kv.Value})
		return true, nil
	case "auth-agent-req@openssh.com":
		if s.started {
			return false, nil
		}
		s.agentFwd = true
		return true, nil
	case "signal":
		var p struct{ Signal string }
		if gossh.Unmarshal(req.Payload, &p) != nil {
			return false, nil
		}
		return s.signal(p.Signal), nil
	case "shell", "exec":
		var p struct{ Command string }
		if req.Type == "exec" && gossh.Unmarshal(req.Payload, &p) != nil {
			return false, nil
		}
		if s.started {
			return false, nil
		}
		run, err := s.startCommand(p.Command)
		if err != nil {
			s.log.Warn("start failed", "type", req.Type, "err", err)
			return false, nil
		}
		s.started = true
		s.log.Info("program started", "type", req.Type, "pty", s.pty != nil)
		return true, run
	case "subsystem":
		var p struct{ Name string }
		if s.started || gossh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" {
			s.log.Debug("subsystem refused", "name", p.Name)
			return false, nil
		}
		run := s.runSFTP
		if len(s.c.a.cfg.SFTPCommand) > 0 {
			var err error
			if run, err = s.startSFTPCommand(); err != nil {
				s.log.Warn("start failed", "type", req.Type, "err", err)
				return false, nil
			}
		}
		s.started = true
		s.log.Info("subsystem started", "name", p.Name)
		return true, run
	default:
		if req.WantReply {
			s.log.Debug("request refused", "type", req.Type)
		}
		return false, nil
	}
}

// signal delivers a client's signal request to the program's process
// group. Signals before the program starts or after it ends are dropped,
// as sshd does.
func (s *session) signal(name string) bool {
	sig := signalByName(name)
	if sig == 0 {
		s.log.Debug("unknown signal", "signal", name)
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.exited {
		return false
	}
	s.log.Debug("signal", "signal", name)
	return syscall.Kill(-s.proc.Pid, sig) == nil
}

func (s *session) setProc(p *os.Process) {
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
}

// setExited records that the program has been reaped, so its pid (and
// process group id) are no longer ours to signal.
func (s *session) setExited() {
	s.mu.Lock()
	s.exited = true
	s.mu.Unlock()
}

// hangUp ends a program whose channel is gone, like a terminal hang-up:
// SIGHUP to its process group now, SIGKILL to the program itself if it is
// still there after killGrace. Jobs that detached (nohup, tmux) survive.
func (s *session) hangUp() {
	s.mu.Lock()
	if s.proc == nil || s.exited {
		s.mu.Unlock()
		return
	}
	_ = syscall.Kill(-s.proc.Pid, syscall.SIGHUP)
	proc := s.proc
	s.mu.Unlock()
	t := time.NewTimer(killGrace)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.mu.Lock()
		if !s.exited {
			s.log.Info("program ignored hang-up; killing it")
			_ = proc.Kill()
		}
		s.mu.Unlock()
	}
}

// exitInfo is how a program ended.
type exitInfo struct {
	status uint32
	signal string // SSH name ("TERM") when it died of a signal
	core   bool
}

func exitOf(state *os.ProcessState) exitInfo {
	if state == nil { // wait itself failed
		return exitInfo{status: 255}
	}
	ws, ok := state.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return exitInfo{signal: signalName(ws.Signal()), core: ws.CoreDump()}
	}
	return exitInfo{status: uint32(state.ExitCode())}
}

// finish reports how the program ended and closes the channel: EOF, then
// exit-status or exit-signal (RFC 4254 §6.10), then close — the order sshd
// uses. The caller has already written all output.
func (s *session) finish(e exitInfo) {
	select {
	case <-s.gone:
		return // nobody to tell
	default:
	}
	_ = s.ch.CloseWrite()
	var err error
	if e.signal != "" {
		_, err = s.ch.SendRequest("exit-signal", false, gossh.Marshal(struct {
			Signal     string
			CoreDumped bool
			Message    string
			Lang       string
		}{e.signal, e.core, "", ""}))
	} else {
		_, err = s.ch.SendRequest("exit-status", false, gossh.Marshal(struct{ Status uint32 }{e.status}))
	}
	if err != nil && !errors.Is(err, chanwire.ErrChannelClosed) {
		s.log.Debug("send exit status", "err", err)
	}
	s.log.Info("program ended", "status", e.status, "signal", e.signal)
	_ = s.ch.Close()
}
