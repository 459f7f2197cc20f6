package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/agent"
	"github.com/wsgate/wsgate/tunnel"
)

// devAgent runs the dev workspace's agent in this process and is the dev
// server's provisioner: start runs the agent, stop ends it.
type devAgent struct {
	ws    acl.WorkspaceID
	dir   string
	url   string
	tls   *tls.Config // trusts the dev CA with --tls
	token string
	// stateDir holds the agent's key, under the dev data dir (never in
	// the workspace's files).
	stateDir string
	log      *slog.Logger

	mu      sync.Mutex
	running *runningAgent
}

type runningAgent struct {
	agent     *agent.Agent
	cancel    context.CancelFunc
	done      chan struct{}
	connected chan struct{}
}

// Start runs the agent unless it runs already, and waits until its tunnel
// is up.
func (d *devAgent) Start(ctx context.Context, ws acl.Workspace) error {
	if ws.ID() != d.ws {
		return fmt.Errorf("the dev provisioner only runs %s", d.ws)
	}
	d.mu.Lock()
	r := d.running
	if r == nil {
		keys, err := openAgentKey(d.stateDir, d.ws.String(), d.token)
		if err != nil {
			d.mu.Unlock()
			return fmt.Errorf("start agent: %w", err)
		}
		a, err := agent.New(agent.Config{
			Workspace: d.ws.String(), Dir: d.dir, Logger: d.log, RotateKey: keys.Rotate,
			// The demo workspace is its sessions' home: `~`, scp and sftp
			// land in it, and collaborators' dotfiles and history stay out
			// of yours.
			Home: d.dir,
		})
		if err != nil {
			d.mu.Unlock()
			return fmt.Errorf("start agent: %w", err)
		}
		runCtx, cancel := context.WithCancel(context.Background())
		r = &runningAgent{agent: a, cancel: cancel, done: make(chan struct{}), connected: make(chan struct{})}
		var once sync.Once
		go func() {
			defer close(r.done)
			_ = a.Run(runCtx, tunnel.ClientConfig{
				URL:       d.url,
				TLSConfig: d.tls,
				Identity:  keys,
				Logger:    d.log,
				OnConnect: func() { once.Do(func() { close(r.connected) }) },
			})
		}()
		d.running = r
	}
	d.mu.Unlock()
	select {
	case <-r.connected:
		return nil
	case <-r.done:
		return errors.New("the dev agent stopped before it connected")
	case <-ctx.Done():
		return fmt.Errorf("wait for the dev agent: %w", ctx.Err())
	case <-time.After(30 * time.Second):
		return errors.New("the dev agent did not connect within 30s")
	}
}

// Stop ends the agent and every session it serves.
func (d *devAgent) Stop(_ context.Context, ws acl.Workspace) error {
	if ws.ID() != d.ws {
		return fmt.Errorf("the dev provisioner only runs %s", d.ws)
	}
	d.mu.Lock()
	r := d.running
	d.running = nil
	d.mu.Unlock()
	if r == nil {
		return nil
	}
	r.cancel()
	<-r.done
	return r.agent.Close()
}

// Update restarts the agent, the closest the dev setup has to a new build.
func (d *devAgent) Update(ctx context.Context, ws acl.Workspace) error {
	if err := d.Stop(ctx, ws); err != nil {
		return err
	}
	return d.Start(ctx, ws)
}
