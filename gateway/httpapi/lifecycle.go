package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// op is a lifecycle operation.
type op int

const (
	opStart op = iota
	opStop
	opUpdate
)

func (o op) String() string {
	return [...]string{"start", "stop", "update"}[o]
}

// from lists the states each operation may begin in.
var opFrom = map[op][]acl.WorkspaceState{
	opStart:  {acl.StateStopped, acl.StateFailed},
	opStop:   {acl.StateRunning, acl.StateFailed},
	opUpdate: {acl.StateRunning, acl.StateStopped, acl.StateFailed},
}

func (a *api) startWorkspace(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	return a.lifecycle(w, r, caller, opStart)
}

func (a *api) stopWorkspace(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	return a.lifecycle(w, r, caller, opStop)
}

func (a *api) updateWorkspace(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	return a.lifecycle(w, r, caller, opUpdate)
}

func (a *api) lifecycle(w http.ResponseWriter, r *http.Request, caller acl.User, o op) error {
	c, ws, unlock, err := a.loadLocked(r, caller, acl.ActionView)
	if err != nil {
		return err
	}
	defer unlock()
	id := ws.ID()
	// Only start and update depend on it; stop never runs the check.
	required := false
	if o != opStop {
		if required, err = a.updateRequired(r.Context(), ws); err != nil {
			return errorf(http.StatusBadGateway, "%v", err)
		}
	}
	switch o {
	case opStart:
		err = c.require(acl.ActionStart)
	case opStop:
		err = c.require(acl.ActionStop)
	case opUpdate:
		if required {
			err = c.require(acl.ActionUpdateRequired)
		} else {
			err = c.require(acl.ActionUpdate)
		}
	}
	if err != nil {
		return err
	}
	if !stateIn(ws.State, opFrom[o]) {
		return errorf(http.StatusConflict, "cannot %s workspace %s: it is %s", o, id, ws.State)
	}
	// A start while an update is required runs the update instead.
	run := o
	if o == opStart && required {
		run = opUpdate
	}
	if err := a.runTransition(r, ws, run, caller.Name); err != nil {
		return err
	}
	if run == opUpdate {
		if err := a.clearUpdateRequired(r, ws); err != nil {
			return err
		}
	}
	return a.writeWorkspace(w, r, http.StatusOK, c)
}

func stateIn(s acl.WorkspaceState, states []acl.WorkspaceState) bool {
	for _, x := range states {
		if s == x {
			return true
		}
	}
	return false
}

func (a *api) updateRequired(ctx context.Context, ws acl.Workspace) (bool, error) {
	if ws.UpdateRequired { // marked by hand (mark-outdated)
		return true, nil
	}
	uc, ok := a.cfg.Provisioner.(UpdateChecker)
	if !ok {
		return false, nil
	}
	req, err := uc.UpdateRequired(ctx, ws)
	if err != nil {
		return false, fmt.Errorf("check whether %s needs an update: %w", ws.ID(), err)
	}
	return req, nil
}

// runTransition moves ws through the operation's intermediate state, runs
// the provisioner, and records the final state: running after start and
// update, stopped after stop, failed when the provisioner fails. The caller
// holds the workspace's lock.
func (a *api) runTransition(r *http.Request, ws acl.Workspace, o op, by string) error {
	mid, final := acl.StateStarting, acl.StateRunning
	if o == opStop {
		mid, final = acl.StateStopping, acl.StateStopped
	}
	id := ws.ID()
	// The provisioner finishes even if the client hangs up: a half-done
	// start would leave the workspace in a state nobody chose.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), a.cfg.ProvisionTimeout)
	defer cancel()
	if err := a.store.SetWorkspaceState(ctx, id, mid); err != nil {
		return fmt.Errorf("set %s %s: %w", id, mid, err)
	}
	ws.State = mid
	var perr error
	if p := a.cfg.Provisioner; p != nil {
		switch o {
		case opStart:
			perr = p.Start(ctx, ws)
		case opStop:
			perr = p.Stop(ctx, ws)
		case opUpdate:
			perr = p.Update(ctx, ws)
		}
		if perr == nil && o != opStop {
			perr = a.waitAgent(ctx, ws, o)
		}
	}
	if perr != nil {
		a.log.WarnContext(ctx, "workspace "+o.String()+" failed", "workspace", id.String(), "by", by, "err", perr)
		if err := a.store.SetWorkspaceState(ctx, id, acl.StateFailed); err != nil {
			return fmt.Errorf("set %s failed after %v: %w", id, perr, err)
		}
		return errorf(http.StatusBadGateway, "%s workspace %s failed: %v", o, id, perr)
	}
	if err := a.store.SetWorkspaceState(ctx, id, final); err != nil {
		return fmt.Errorf("set %s %s: %w", id, final, err)
	}
	a.log.InfoContext(ctx, "workspace "+o.String(), "workspace", id.String(), "state", final, "by", by)
	return nil
}

// waitAgent waits, at most AgentWait, until the workspace's agent has a
// tunnel to this gateway.
func (a *api) waitAgent(ctx context.Context, ws acl.Workspace, o op) error {
	info := a.cfg.AgentInfo
	if info == nil {
		return nil
	}
	wait, cancel := context.WithTimeout(ctx, a.cfg.AgentWait)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !info.Connected(ws) {
		select {
		case <-wait.Done():
			return fmt.Errorf("%s %s: the agent did not connect within %s", o, ws.ID(), a.cfg.AgentWait)
		case <-tick.C:
		}
	}
	return nil
}
