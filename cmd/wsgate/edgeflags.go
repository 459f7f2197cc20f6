package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway"
)

// edgeFlags are the limits on what a client can hold before it is trusted
// (`server` and `dev`).
type edgeFlags struct {
	sshMaxStartups          string
	sshPerSourceMaxStartups int
	sshLoginGraceTime       time.Duration
	sshBannerTimeout        time.Duration
	httpIdleTimeout         time.Duration
	httpReadHeaderTimeout   time.Duration
	httpMaxConnsPerSource   int
}

func (e *edgeFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&e.sshMaxStartups, "ssh-max-startups", gateway.DefaultSSHMaxStartups,
		"START:RATE:FULL, as OpenSSH's MaxStartups: from START SSH connections still authenticating, new ones are dropped with RATE% chance, rising to 100% at FULL (SSH over HTTPS has a pool of its own, the same size)")
	fl.IntVar(&e.sshPerSourceMaxStartups, "ssh-per-source-max-startups", gateway.DefaultSSHPerSourceMaxStartups,
		"SSH connections still authenticating one source (an IPv4 address, an IPv6 /64) may hold")
	fl.DurationVar(&e.sshLoginGraceTime, "ssh-login-grace-time", gateway.DefaultSSHLoginGraceTime,
		"time an SSH client has to finish authenticating")
	fl.DurationVar(&e.sshBannerTimeout, "ssh-banner-timeout", gateway.DefaultSSHBannerTimeout,
		"time an SSH client has to send its version line")
	fl.DurationVar(&e.httpIdleTimeout, "http-idle-timeout", gateway.DefaultHTTPIdleTimeout,
		"close HTTP keep-alive connections idle for this long")
	fl.DurationVar(&e.httpReadHeaderTimeout, "http-read-header-timeout", gateway.DefaultHTTPReadHeaderTimeout,
		"time a client has to send an HTTP request's headers")
	fl.IntVar(&e.httpMaxConnsPerSource, "http-max-conns-per-source", gateway.DefaultHTTPMaxConnsPerSource,
		"open HTTP connections per client address (IPv6: per /64); --trusted-proxies are not capped")
}

func (e *edgeFlags) limits() gateway.EdgeLimits {
	return gateway.EdgeLimits{
		SSHMaxStartups:          e.sshMaxStartups,
		SSHPerSourceMaxStartups: e.sshPerSourceMaxStartups,
		SSHLoginGraceTime:       e.sshLoginGraceTime,
		SSHBannerTimeout:        e.sshBannerTimeout,
		HTTPIdleTimeout:         e.httpIdleTimeout,
		HTTPReadHeaderTimeout:   e.httpReadHeaderTimeout,
		HTTPMaxConnsPerSource:   e.httpMaxConnsPerSource,
	}
}
