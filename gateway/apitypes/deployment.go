package apitypes

// DefaultHostnameSuffix is the host alias suffix a server reports unless
// configured otherwise: alice-ws.coder.
const DefaultHostnameSuffix = "coder"

// Deployment tells clients how to reach the gateway's SSH front door.
type Deployment struct {
	// SSHAddr is host:port of the SSH front door; the host may be empty,
	// meaning the host of the API URL.
	SSHAddr        string `json:"ssh_addr"`
	HostnameSuffix string `json:"hostname_suffix"`
	// AccessURL is the URL agents, the CLI and browsers are told to use.
	AccessURL string `json:"access_url,omitempty"`
	// SSHHostKeys are the SSH front door's host public keys, in
	// authorized_keys form, for a known_hosts file (config-ssh).
	SSHHostKeys []string `json:"ssh_host_keys,omitempty"`
}

// Info is the answer of GET /api/v1/info, which needs no sign-in: what a
// client needs to find the gateway's entry points.
type Info struct {
	AccessURL      string `json:"access_url"`
	SSHAddr        string `json:"ssh_addr"`
	HostnameSuffix string `json:"hostname_suffix"`
	// AppsURL is an app's address with "{port}", "{name}" and "{owner}" to
	// fill in; empty without an apps domain.
	AppsURL string `json:"apps_url,omitempty"`
}
