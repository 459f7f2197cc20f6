package revoke

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// Ending processes. A user whose access to a workspace ended may have left
// processes running there (nohup, setsid, tmux). After each event, and
// whenever an agent connects to this replica, the revoker asks the agents
// the event can concern which users have processes, decides connect for
// each against a fresh snapshot, and has the agent end the processes of
// those who lost it. This runs in its own goroutine, after the event's
// drops were started: it never holds up a session drop. A store that does
// not answer ends nothing; the workspace is tried again at the next event.

// AgentProcesses asks a connected agent, by workspace UID, about the
// processes its users started.
type AgentProcesses interface {
	// ProcessUsers lists the users with live processes.
	ProcessUsers(ctx context.Context, uid string) ([]string, error)
	// EndProcesses ends every process of users and says what it ended.
	EndProcesses(ctx context.Context, uid string, users []string) ([]EndedProcess, error)
}

// EndedProcess is one process an agent ended.
type EndedProcess struct {
	User    string
	PID     int
	Command string
}

// processAskTimeout bounds one agent exchange: ending waits a grace
// between SIGTERM and SIGKILL on the agent.
const processAskTimeout = 15 * time.Second

// procWatch is what the revoker knows of agents on this replica.
type procWatch struct {
	mu        sync.Mutex
	connected map[string]bool // workspace UIDs whose agent is connected here
	pending   map[string]bool // to be checked
	all       bool            // every connected agent is to be checked
	kick      chan struct{}   // cap 1
}

// AgentConnected tells the revoker that the agent of the workspace with
// UID uid connected to this replica (tunnel.RegistryConfig.OnConnect):
// processes of users revoked while it was away are ended.
func (r *Revoker) AgentConnected(uid string) {
	w := r.procs
	if w == nil {
		return
	}
	w.mu.Lock()
	w.connected[uid] = true
	w.pending[uid] = true
	w.mu.Unlock()
	w.poke()
}

// AgentDisconnected is tunnel.RegistryConfig.OnDisconnect's half.
func (r *Revoker) AgentDisconnected(uid string) {
	w := r.procs
	if w == nil {
		return
	}
	w.mu.Lock()
	delete(w.connected, uid)
	delete(w.pending, uid)
	w.mu.Unlock()
}

func (w *procWatch) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// noteProcesses marks the agents whose users' access ev can have ended.
func (r *Revoker) noteProcesses(ev acl.Event) {
	w := r.procs
	if w == nil {
		return
	}
	w.mu.Lock()
	switch ev.Kind {
	case acl.EventKeyRemoved, acl.EventTokenRevoked, acl.EventWorkspaceStopped,
		acl.EventWorkspaceRenamed, acl.EventAgentTokenRotated, acl.EventWorkspaceDeleted:
		// No one's access to a workspace ended (a deleted workspace's
		// agent is disconnected).
		w.mu.Unlock()
		return
	case acl.EventGrantRemoved, acl.EventGrantLowered, acl.EventGrantExpired, acl.EventWorkspaceTransferred:
		if ev.WorkspaceUID != "" {
			if w.connected[ev.WorkspaceUID] {
				w.pending[ev.WorkspaceUID] = true
			}
			break
		}
		w.all = true
	default:
		w.all = true
	}
	w.mu.Unlock()
	w.poke()
}

// take returns the workspaces to check now.
func (w *procWatch) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for uid := range w.connected {
		if w.all || w.pending[uid] {
			out = append(out, uid)
		}
	}
	w.all = false
	clear(w.pending)
	return out
}

// retry checks uid again at the next event.
func (w *procWatch) retry(uid string) {
	w.mu.Lock()
	if w.connected[uid] {
		w.pending[uid] = true
	}
	w.mu.Unlock()
}

// followProcesses ends revoked users' processes until ctx ends.
func (r *Revoker) followProcesses(ctx context.Context) error {
	w := r.procs
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.kick:
		}
		// After the drops: users are told before their processes are
		// looked at (sessions.Registry.AwaitTeardown).
		r.reg.AwaitTeardown()
		uids := w.take()
		var wg sync.WaitGroup
		sem := make(chan struct{}, recheckParallelism)
		for _, uid := range uids {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if !r.endRevokedProcesses(ctx, uid) {
					w.retry(uid)
				}
			}()
		}
		wg.Wait()
	}
}

// endRevokedProcesses ends the processes of the users of uid's agent who
// may no longer connect. False when it could not decide, to try again.
func (r *Revoker) endRevokedProcesses(ctx context.Context, uid string) bool {
	actx, cancel := context.WithTimeout(ctx, processAskTimeout)
	defer cancel()
	users, err := r.cfg.Processes.ProcessUsers(actx, uid)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Info("could not ask the agent whose processes run", "workspace_uid", uid, "err", err)
		}
		return false
	}
	if len(users) == 0 {
		return true
	}
	gctx, gcancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	ws, err := r.store.GetWorkspaceByUID(gctx, uid)
	gcancel()
	deleted := errors.Is(err, acl.ErrNotFound)
	if err != nil && !deleted {
		r.log.Warn("processes kept until the store answers", "workspace_uid", uid, "err", err)
		return false
	}
	decided := true
	var revoked []string
	var checks []check
	if !deleted {
		checks = r.checkAll(ctx, uid, ws.ID(), users)
	}
	for i, u := range users {
		if deleted {
			revoked = append(revoked, u)
			continue
		}
		c := checks[i]
		switch {
		case c.err != nil:
			r.log.Warn("processes kept until the store answers", "user", u, "workspace", ws.ID().String(), "err", c.err)
			decided = false
		case !c.d.Allow:
			revoked = append(revoked, u)
		}
	}
	if len(revoked) == 0 {
		return decided
	}
	r.awaitSessionsEnded(ctx, uid, revoked)
	ended, err := r.cfg.Processes.EndProcesses(actx, uid, revoked)
	for _, e := range ended {
		r.log.Info("process of a revoked user ended", "user", e.User, "pid", e.PID, "command", e.Command,
			"workspace", ws.ID().String(), "workspace_uid", uid)
	}
	if err != nil {
		r.log.Warn("could not end the processes of revoked users", "users", revoked, "workspace_uid", uid, "err", err)
		return false
	}
	return decided
}

// awaitSessionsEnded waits, at most DropWait, until the live sessions of
// users on the workspace with UID uid have ended: their drops tell them
// why first. A process ended before its session's drop would close the
// session without the message, and the user would only see it end.
func (r *Revoker) awaitSessionsEnded(ctx context.Context, uid string, users []string) {
	revoked := make(map[string]bool, len(users))
	for _, u := range users {
		revoked[u] = true
	}
	t := time.NewTimer(DropWait)
	defer t.Stop()
	for _, ls := range r.reg.OnWorkspace(uid) {
		if !revoked[ls.Info.User] {
			continue
		}
		select {
		case <-ls.Done():
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}
