package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// cmdProvisioner runs --provisioner-cmd as `CMD start|stop|update
// <owner/name>` through /bin/sh, so CMD may carry its own arguments.
//
// start and update hand the command a fresh agent token in
// WSGATE_AGENT_TOKEN (only its hash is stored, so a token cannot be handed
// out twice), with WSGATE_AGENT_URL and WSGATE_WORKSPACE; the API then
// waits for the agent's tunnel: "running" means reachable.
type cmdProvisioner struct {
	cmd      string
	store    acl.Store
	agentURL string
	log      *slog.Logger
}

func (p *cmdProvisioner) Start(ctx context.Context, ws acl.Workspace) error {
	return p.startLike(ctx, "start", ws)
}

func (p *cmdProvisioner) Update(ctx context.Context, ws acl.Workspace) error {
	return p.startLike(ctx, "update", ws)
}

func (p *cmdProvisioner) Stop(ctx context.Context, ws acl.Workspace) error {
	return p.run(ctx, "stop", ws, nil)
}

func (p *cmdProvisioner) startLike(ctx context.Context, verb string, ws acl.Workspace) error {
	token := acl.NewSecret(acl.AgentTokenPrefix)
	if err := p.store.SetAgentTokenHash(ctx, ws.ID(), acl.HashToken(token)); err != nil {
		return fmt.Errorf("new agent token: %w", err)
	}
	if err := p.run(ctx, verb, ws, []string{"WSGATE_AGENT_TOKEN=" + token}); err != nil {
		return err
	}
	return nil
}

// run runs CMD verb owner/name and logs its output; a non-zero exit is an
// error that carries the output's last line.
func (p *cmdProvisioner) run(ctx context.Context, verb string, ws acl.Workspace, env []string) error {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", p.cmd+` "$@"`, "wsgate-provisioner", verb, ws.ID().String())
	c.Env = append(os.Environ(), append(env,
		"WSGATE_AGENT_URL="+p.agentURL,
		"WSGATE_WORKSPACE="+ws.ID().String(),
	)...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	// A provisioner that starts the agent in the background keeps the
	// output pipe open; stop waiting for it shortly after CMD exits.
	c.WaitDelay = 2 * time.Second
	err := c.Run()
	p.log.Info("provisioner ran", "verb", verb, "workspace", ws.ID().String(), "err", err, "output", strings.TrimSpace(out.String()))
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		last := strings.TrimSpace(out.String())
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		return fmt.Errorf("provisioner %s %s: %w: %s", verb, ws.ID(), err, last)
	}
	return nil
}
