package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// idleParallel is how many connections are being opened at once: well
// below the gateway's MaxUnauthenticated (64), so no handshake is refused.
const idleParallel = 16

// idleClientConfig logs in as alice to alice-ws with her dev key, checking
// the host key against the dev known_hosts.
func idleClientConfig(b testing.TB, d *devEnv) *ssh.ClientConfig {
	b.Helper()
	key, err := os.ReadFile(d.key("alice"))
	if err != nil {
		b.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		b.Fatal(err)
	}
	hostKeys, err := knownhosts.New(filepath.Join(d.dir, "known_hosts"))
	if err != nil {
		b.Fatal(err)
	}
	return &ssh.ClientConfig{
		User: "alice-ws", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys, Timeout: 30 * time.Second,
	}
}

// openIdleSessions opens n connections, idleParallel at a time, each with
// one session started on `sleep 3600`, connection i with cfgs[i mod
// len(cfgs)] (one a workspace); on an error it closes what it opened and
// fails b.
func openIdleSessions(b testing.TB, addr string, cfgs []*ssh.ClientConfig, n int) []*ssh.Client {
	b.Helper()
	clients := make([]*ssh.Client, n)
	next := make(chan int)
	errs := make(chan error, idleParallel)
	var wg sync.WaitGroup
	for range min(idleParallel, n) {
		wg.Go(func() {
			for i := range next {
				cfg := cfgs[i%len(cfgs)]
				c, err := openIdleSession(addr, cfg)
				if err != nil {
					errs <- fmt.Errorf("session %d of %d (%s): %w", i+1, n, cfg.User, err)
					return
				}
				clients[i] = c
			}
		})
	}
	func() {
		defer close(next)
		for i := range n {
			select {
			case next <- i:
			case err := <-errs:
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		closeIdleSessions(clients)
		b.Fatal(err)
	}
	return clients
}

// openIdleSession dials addr and starts `sleep 3600` on one session. The
// exec makes the session's process the sleep itself: Debian's dash (0.5.12)
// forks even for the last command of -c, which would add a shell a session.
func openIdleSession(addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	s, err := c.NewSession()
	if err == nil {
		err = s.Start("exec sleep 3600")
	}
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("session: %w", err)
	}
	return c, nil
}

// closeIdleSessions closes every client (nil ones are skipped) and waits
// for their goroutines to end.
func closeIdleSessions(clients []*ssh.Client) {
	var wg sync.WaitGroup
	next := make(chan *ssh.Client)
	for range idleParallel {
		wg.Go(func() {
			for c := range next {
				_ = c.Close()
				_ = c.Wait()
			}
		})
	}
	for _, c := range clients {
		if c != nil {
			next <- c
		}
	}
	close(next)
	wg.Wait()
}

// waitIdleReady opens and closes one idle session until one works (the
// agent has connected), within a minute. What is made once (the agent's
// first stream, caches) is then not charged to the sessions measured.
func waitIdleReady(b testing.TB, addr string, cfg *ssh.ClientConfig) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := openIdleSession(addr, cfg)
		if err == nil {
			closeIdleSessions([]*ssh.Client{c})
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("no idle session within a minute: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
