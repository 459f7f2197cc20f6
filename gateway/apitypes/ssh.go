package apitypes

// SSH over HTTPS: POST SSHUpgradePath with "Authorization: Bearer <API
// token>", "Connection: Upgrade" and "Upgrade: SSHUpgradeProtocol". After
// "101 Switching Protocols" the connection carries one SSH connection to the
// gateway's front door, bound to the token's user.
const (
	SSHUpgradePath     = "/api/v1/ssh"
	SSHUpgradeProtocol = "wsgate-ssh"
)
