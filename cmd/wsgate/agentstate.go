package main

import (
	"errors"
	"path/filepath"

	"github.com/wsgate/wsgate/agent/agentkey"
	"github.com/wsgate/wsgate/tunnel"
)

// openAgentKey opens the agent's identity file in stateDir (default
// agentkey.DefaultDir) for workspace. An agent needs a token only until
// its key is pinned.
func openAgentKey(stateDir, workspace, token string) (*agentkey.Store, error) {
	if stateDir == "" {
		stateDir = agentkey.DefaultDir()
	}
	ks, err := agentkey.Open(filepath.Join(stateDir, agentkey.FileName(workspace)), token)
	if err != nil {
		return nil, err
	}
	if token == "" && !ks.HasKey() {
		return nil, errors.New("agent needs an enrolment token (--token or WSGATE_AGENT_TOKEN) until it has enrolled; " +
			"no key in " + ks.Path())
	}
	return ks, nil
}

// giveUpOnRefusalBeforeUp stops an agent that has never been up when the
// gateway refuses its key and it has no new token to enrol with: only a
// new token from the owner helps, and exiting says so where it is seen
// (a refused token is retried, as before: the gateway may not know it yet).
func giveUpOnRefusalBeforeUp(err error, wasUp bool) bool {
	if wasUp {
		return false
	}
	return errors.Is(err, tunnel.ErrKeyRefused) || giveUpOnMismatchBeforeUp(err, wasUp)
}
