// Package e2e runs the built wsgate binary as real processes and drives it
// with the real OpenSSH client (ssh, scp, sftp, rsync, ssh-agent, tmux) and
// Python's paramiko and asyncssh, as users would. It has no non-test code.
package e2e
