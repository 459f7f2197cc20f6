package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// UpdateRequired implements httpapi.UpdateChecker: `CMD needs-update
// OWNER/NAME` exits 0 when the workspace requires an update, 1 when it
// does not; anything else is an error (start and update then fail rather
// than guess).
func (p *cmdProvisioner) UpdateRequired(ctx context.Context, ws acl.Workspace) (bool, error) {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", p.cmd+` "$@"`, "wsgate-provisioner", "needs-update", ws.ID().String())
	c.Env = append(os.Environ(), "WSGATE_AGENT_URL="+p.agentURL, "WSGATE_WORKSPACE="+ws.ID().String())
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	c.WaitDelay = 2 * time.Second
	err := c.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return false, nil
	}
	last := strings.TrimSpace(out.String())
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	p.log.Warn("provisioner needs-update failed", "workspace", ws.ID().String(), "err", err, "output", strings.TrimSpace(out.String()))
	return false, fmt.Errorf("provisioner needs-update %s: %w (exit 0 means required, 1 not required): %s", ws.ID(), err, last)
}
