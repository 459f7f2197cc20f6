package agent

import "github.com/wsgate/wsgate/tunnel/control"

// rotateKey answers control.OpRotateKey: the gateway replaces the key it
// pinned for this agent because someone who could have copied the old one
// lost access.
func (a *Agent) rotateKey() control.Response {
	if a.cfg.RotateKey == nil {
		return control.Response{Error: "rotate-key: this agent keeps no key (it runs with a plain token)"}
	}
	pub, err := a.cfg.RotateKey()
	if err != nil {
		a.log.Error("cannot rotate the agent key", "err", err)
		return control.Response{Error: "rotate-key: " + err.Error()}
	}
	a.log.Info("agent key rotated at the gateway's request (a user with access to this workspace lost it)")
	return control.Response{PublicKey: pub}
}
