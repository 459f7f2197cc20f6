package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// holdIdle keeps n idle TCP connections to addr open from local, each
// re-opened (after a short pause) when the gateway closes it, until the
// test ends. It returns how many were opened so far.
func holdIdle(t *testing.T, local, addr string, n int) *atomic.Int64 {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 2 * time.Second}
	var opened atomic.Int64
	pause := func() {
		// Not a tight loop: a dropped connection comes back within
		// 100-200 ms, which keeps every slot the gateway frees contested
		// without running out of loopback ports.
		select {
		case <-ctx.Done():
		case <-time.After(100*time.Millisecond + rand.N(100*time.Millisecond)):
		}
	}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				c, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					pause()
					continue
				}
				opened.Add(1)
				stop := context.AfterFunc(ctx, func() { _ = c.Close() })
				// Reads the gateway's version line, sends nothing, and
				// waits for the gateway to close the connection.
				_, _ = io.Copy(io.Discard, c)
				stop()
				_ = c.Close()
				pause()
			}
		}()
	}
	return &opened
}

// TestPreauthFloodDoesNotLockOut: 200 idle connections held (and
// re-opened) from 127.0.0.2 do not keep alice, from 127.0.0.1, from
// logging in with OpenSSH within 2 s; the refusals are counted, not
// logged one by one.
func TestPreauthFloodDoesNotLockOut(t *testing.T) {
	requireTool(t, "ssh")
	d := startDev(t, "--ssh-banner-timeout", "2s")
	opened := holdIdle(t, "127.0.0.2", net.JoinHostPort(d.sshHost, d.sshPort), 200)
	testutil.WaitFor(t, 15*time.Second, "200 flood connections opened", func() bool { return opened.Load() >= 200 })

	const logins = 5
	var worst time.Duration
	for i := range logins {
		if i > 0 {
			// Spread over more than the banner timeout: the flood's held
			// connections are dropped and re-opened meanwhile.
			time.Sleep(600 * time.Millisecond)
		}
		start := time.Now()
		r := d.sshRun(t, "alice", "alice-ws", nil, "echo in")
		took := time.Since(start)
		worst = max(worst, took)
		if r.code != 0 || r.stdout != "in\n" {
			t.Fatalf("login %d during the flood: code %d stdout %q stderr %q (after %v)", i, r.code, r.stdout, r.stderr, took)
		}
		if took > 2*time.Second {
			t.Fatalf("login %d during the flood took %v, want < 2s", i, took)
		}
	}
	var refused float64
	_, _ = fmt.Sscanf(metric(d.metrics(t), `wsgate_ssh_preauth_refused_total{pool="ssh",reason="per_source"}`), "%g", &refused)
	if refused < 200 {
		t.Fatalf("per-source refusals counted: %v, want the flood's (>= 200)", refused)
	}
	if n := strings.Count(d.proc.out.String(), "refused before authentication"); n > 1 {
		t.Fatalf("%d refusal log lines, want at most one a minute", n)
	}
	t.Logf("%d logins during the flood, the slowest %v; %d flood connections opened, %v refused per source",
		logins, worst.Round(time.Millisecond), opened.Load(), refused)
}

// TestHTTPIdleConnectionsClosed: 50 idle keep-alive connections are
// closed within the idle timeout, and one source holds at most
// --http-max-conns-per-source connections.
func TestHTTPIdleConnectionsClosed(t *testing.T) {
	const idle = time.Second
	d := startDev(t, "--http-idle-timeout", idle.String(), "--http-max-conns-per-source", "60")
	u, err := url.Parse(d.url)
	if err != nil {
		t.Fatal(err)
	}
	open := func() (net.Conn, error) {
		c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: "+u.Host+"\r\n\r\n"); err != nil {
			_ = c.Close()
			return nil, err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			_ = c.Close()
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return c, nil
	}
	conns := make([]net.Conn, 50)
	for i := range conns {
		c, err := open()
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		conns[i] = c
	}
	served := time.Now()
	var wg sync.WaitGroup
	closedAfter := make([]time.Duration, len(conns))
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(served.Add(idle + 5*time.Second))
			_, err := c.Read(make([]byte, 1))
			if errors.Is(err, io.EOF) {
				closedAfter[i] = time.Since(served)
			} else {
				closedAfter[i] = -1
			}
		}()
	}
	wg.Wait()
	var last time.Duration
	for i, d := range closedAfter {
		if d < 0 || d > idle+time.Second {
			t.Fatalf("connection %d: closed after %v, want within %v of the idle timeout", i, d, idle)
		}
		last = max(last, d)
	}
	t.Logf("50 idle connections closed, the last %v after its response (idle timeout %v)", last.Round(time.Millisecond), idle)

	// The cap: from 60 connections (the dev agent's tunnel holds one from
	// the same address), the next is closed at once.
	var held []net.Conn
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
	}()
	for len(held) <= 60 {
		c, err := open()
		if err != nil {
			break
		}
		held = append(held, c)
	}
	if len(held) < 50 || len(held) >= 60 {
		t.Fatalf("%d connections from one source served, want the cap of 60 (less the agent's)", len(held))
	}
	_ = held[0].Close()
	held = held[1:]
	testutil.WaitFor(t, 5*time.Second, "a slot freed by a close", func() bool {
		c, err := open()
		if err == nil {
			held = append(held, c)
		}
		return err == nil
	})
}
