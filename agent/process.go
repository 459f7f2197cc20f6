package agent

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ptyDrainIdle bounds how long the pty is read after the program exits
// without new output arriving: a background job can keep the terminal open
// forever, and sshd does not wait for it either.
const ptyDrainIdle = 100 * time.Millisecond

// command builds the program like sshd: a login shell ("-bash") for
// "shell", `$SHELL -c <command>` for "exec".
func (s *session) command(raw string, env []string) *exec.Cmd {
	shell := s.c.a.cfg.Shell
	base := filepath.Base(shell)
	args := []string{"-" + base}
	if raw != "" {
		args = []string{base, "-c", raw}
	}
	return &exec.Cmd{Path: shell, Args: args, Dir: s.c.a.cfg.Dir, Env: env}
}

// startCommand starts the session's shell or exec command and returns the
// function that relays its I/O until it ends and reports its exit.
func (s *session) startCommand(raw string) (func(), error) {
	env := s.env()
	if s.pty != nil {
		env.term = s.pty.Term
	}
	var fwd *agentForward
	if s.agentFwd {
		var err error
		if fwd, err = s.c.startAgentForward(s.log); err != nil {
			// Like sshd: the session goes on without a forwarded agent.
			s.log.Warn("agent forwarding unavailable", "err", err)
		} else {
			env.authSock = fwd.path
		}
	}
	cmd := s.command(raw, env.Environ())
	var run func() exitInfo
	var err error
	if s.pty != nil {
		run, err = s.startPty(cmd)
	} else {
		run, err = s.startPipes(cmd)
	}
	if err != nil {
		fwd.stop()
		return nil, err
	}
	return func() {
		e := run()
		fwd.stop()
		s.finish(e)
	}, nil
}

// env is the session's environment before the terminal and the forwarded
// agent are added.
func (s *session) env() sessionEnv {
	return sessionEnv{
		user:      s.c.a.user,
		shell:     s.c.a.cfg.Shell,
		wsUser:    s.c.hdr.User,
		workspace: s.c.a.cfg.Workspace,
		client:    s.clientEnv,

		runtimeDir: s.c.a.cfg.RuntimeDir,
	}
}

// startPipes runs cmd with stdin, stdout and stderr on pipes, in its own
// process group so a signal reaches what it started.
func (s *session) startPipes(cmd *exec.Cmd) (func() exitInfo, error) {
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		if r, w, err = os.Pipe(); err == nil {
			files = append(files, r, w)
		}
		return r, w, err
	}
	inR, inW, err1 := pipe()
	outR, outW, err2 := pipe()
	errR, errW, err3 := pipe()
	if err1 != nil || err2 != nil || err3 != nil {
		closeAll()
		return nil, fmt.Errorf("pipes: %v %v %v", err1, err2, err3)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.c.a.user.setCredential(cmd)
	started := s.c.procs.prepare(cmd) // the connection's processes (proctrack.go)
	err := cmd.Start()
	started(cmd.Process)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	_ = inR.Close()
	_ = outW.Close()
	_ = errW.Close()
	s.setProc(cmd.Process)

	return func() exitInfo {
		// ReadFrom and WriteTo, not io.Copy's buffer: an idle session
		// holds no 32 KiB buffer per direction.
		var out sync.WaitGroup
		out.Add(2)
		go func() { defer out.Done(); _, _ = s.ch.ReadFrom(outR) }()
		go func() { defer out.Done(); _, _ = s.ch.Stderr().(io.ReaderFrom).ReadFrom(errR) }()
		// The stdin relay outlives the program: it ends only when the
		// client's EOF or close arrives, so the connection's group, not
		// this runner, waits for it.
		if !s.c.work.goFn(func() {
			_, _ = s.ch.WriteTo(inW)
			_ = inW.Close() // the client's EOF is the program's EOF
		}) {
			_ = inW.Close()
		}

		state, _ := waitExit(cmd.Process)
		s.setExited()
		_ = inW.Close()
		// Like sshd, wait for the program's output to reach EOF so every
		// byte goes out before exit-status, unless the channel is gone.
		drained := make(chan struct{})
		go func() { out.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-s.gone:
		}
		_ = outR.Close()
		_ = errR.Close()
		<-drained
		return exitOf(state)
	}, nil
}

// startPty runs cmd as a session leader with the pty as its controlling
// terminal, sized to the latest window the client asked for.
func (s *session) startPty(cmd *exec.Cmd) (func() exitInfo, error) {
	ptmx, tty, err := openPty()
	if err != nil {
		return nil, err
	}
	if err := setWinsize(ptmx, s.win.latest()); err != nil {
		_ = ptmx.Close()
		_ = tty.Close()
		return nil, fmt.Errorf("set window size: %w", err)
	}
	if err := applyModes(tty, s.pty.Modes); err != nil {
		// Like sshd: a terminal with default modes is still usable.
		s.log.Debug("terminal modes", "err", err)
	}
	if err := s.c.a.user.ownTerminal(tty); err != nil {
		_ = ptmx.Close()
		_ = tty.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	s.c.a.user.setCredential(cmd)
	started := s.c.procs.prepare(cmd) // the connection's processes (proctrack.go)
	err = cmd.Start()
	started(cmd.Process)
	_ = tty.Close()
	if err != nil {
		_ = ptmx.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	s.setProc(cmd.Process)

	return func() exitInfo {
		stopWin := make(chan struct{})
		winDone := make(chan struct{})
		go func() {
			defer close(winDone)
			for {
				select {
				case <-s.win.changed:
					if err := setWinsize(ptmx, s.win.latest()); err != nil {
						s.log.Debug("resize pty", "err", err)
					}
				case <-stopWin:
					return
				}
			}
		}()
		var exited atomic.Bool
		outDone := make(chan struct{})
		go func() {
			defer close(outDone)
			s.copyPtyOutput(ptmx, &exited)
		}()
		// Ends on the client's EOF or close, or once ptmx is closed.
		s.c.work.goFn(func() { _, _ = s.ch.WriteTo(ptmx) })

		state, _ := waitExit(cmd.Process)
		s.setExited()
		exited.Store(true)
		_ = ptmx.SetReadDeadline(time.Now().Add(ptyDrainIdle))
		select {
		case <-outDone:
		case <-s.gone:
			_ = ptmx.SetReadDeadline(time.Unix(1, 0))
			<-outDone
		}
		close(stopWin)
		<-winDone
		_ = ptmx.Close() // hangs up jobs left on the terminal
		return exitOf(state)
	}, nil
}

// copyPtyOutput relays the terminal's output to the channel as is (no
// newline rewriting: the pty's own line discipline has done that). Once
// the program has exited, each read may wait at most ptyDrainIdle. It ends
// on EIO, once every holder of the terminal is gone.
func (s *session) copyPtyOutput(ptmx *os.File, exited *atomic.Bool) {
	_, _ = s.ch.ReadFrom(drainReader{f: ptmx, exited: exited})
}

// drainReader reads the pty master, each read bounded by ptyDrainIdle
// once the program has exited. The channel's ReadFrom waits with a small
// buffer, so an idle terminal holds no 32 KiB one.
type drainReader struct {
	f      *os.File
	exited *atomic.Bool
}

func (r drainReader) Read(p []byte) (int, error) {
	if r.exited.Load() {
		_ = r.f.SetReadDeadline(time.Now().Add(ptyDrainIdle))
	}
	return r.f.Read(p)
}
