package testredis_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsgate/wsgate/internal/testredis"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// do sends one inline command and returns the first reply line.
func do(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\r\n", cmd); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(line, "$") && line != "$-1\r\n" {
		line, err = r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
	}
	return strings.TrimRight(line, "\r\n")
}

func TestStartRestart(t *testing.T) {
	s := testredis.Start(t)
	if strings.HasSuffix(s.Addr(), ":6379") || !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("addr %s", s.Addr())
	}
	if got := s.URL(); got != "redis://"+s.Addr()+"/0" {
		t.Fatalf("URL %s", got)
	}
	if got := do(t, s.Addr(), "SET k v"); got != "+OK" {
		t.Fatalf("SET: %s", got)
	}
	s.Restart(t)
	if got := do(t, s.Addr(), "GET k"); got != "$-1" {
		t.Fatalf("in-memory server kept data across restart: %s", got)
	}
}

func TestPersistenceSurvivesRestart(t *testing.T) {
	s := testredis.Start(t, testredis.WithPersistence())
	if got := do(t, s.Addr(), "SET k v"); got != "+OK" {
		t.Fatalf("SET: %s", got)
	}
	s.Restart(t)
	if got := do(t, s.Addr(), "GET k"); got != "v" {
		t.Fatalf("GET after restart: %s", got)
	}
}

func TestStopped(t *testing.T) {
	s := testredis.Start(t)
	s.Stop(t)
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("server still answers after Stop")
	}
	s.Restart(t)
	if got := do(t, s.Addr(), "PING"); got != "+PONG" {
		t.Fatalf("PING after restart: %s", got)
	}
}
