package gateway

import (
	"bufio"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// The revocation benchmarks hold their SSH clients in a child process (this
// test binary, started again with benchClientsEnv set), as real users' are
// in their own processes: in the gateway's process, 1,000 clients'
// goroutines would queue behind the gateway's in one Go scheduler, and
// their heap would be the gateway's to collect.
//
// The child reads commands, one a line, and answers on its stdout:
//
//	open ID USER TARGET SEEDHEX N ADDR=HOSTKEY...  → opened ID | error ID MSG
//	close ID                                       → done ID
//
// open holds N sessions as USER (the ed25519 key of that seed) on TARGET,
// spread over the addresses (each pinned to its host key, base64 wire
// form); for each session whose channel closes it writes
// "closed ID K UNIXNANO", the wall-clock time its reader saw the close.
// At the end of its input it closes everything and exits.
const benchClientsEnv = "WSGATE_BENCH_CLIENTS"

// benchClients is the parent's side: the child and the sessions it holds.
type benchClients struct {
	in   io.WriteCloser
	done chan struct{} // the reader of the child's output ended

	mu      sync.Mutex
	next    int
	groups  map[int][]*benchSession
	replies map[int]chan error
}

// startBenchClients starts the child; cleanup ends it.
func startBenchClients(tb testing.TB) *benchClients {
	tb.Helper()
	bc := &benchClients{done: make(chan struct{}), groups: map[int][]*benchSession{}, replies: map[int]chan error{}}
	in, out := startBenchChild(tb, "bench clients", []string{benchClientsEnv + "=1"}, true, func() { <-bc.done })
	bc.in = in
	go bc.read(out)
	return bc
}

func (bc *benchClients) read(out io.Reader) {
	defer close(bc.done)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 3)
		if len(f) < 2 {
			continue
		}
		id, _ := strconv.Atoi(f[1])
		bc.mu.Lock()
		switch f[0] {
		case "closed":
			k, at, _ := strings.Cut(f[2], " ")
			i, _ := strconv.Atoi(k)
			ns, _ := strconv.ParseInt(at, 10, 64)
			if g := bc.groups[id]; i < len(g) {
				select { // only the first close counts
				case g[i].closed <- time.Unix(0, ns):
				default:
				}
			}
		case "opened", "done":
			bc.replies[id] <- nil
		case "error":
			bc.replies[id] <- errors.New(f[2])
		}
		bc.mu.Unlock()
	}
	bc.mu.Lock()
	for _, r := range bc.replies {
		select {
		case r <- errors.New("bench clients ended"):
		default:
		}
	}
	bc.mu.Unlock()
}

// send writes one command and waits for its answer.
func (bc *benchClients) send(id int, line string) error {
	reply := make(chan error, 1)
	bc.mu.Lock()
	bc.replies[id] = reply
	_, err := io.WriteString(bc.in, line+"\n")
	bc.mu.Unlock()
	if err != nil {
		return err
	}
	return <-reply
}

// open holds n sessions as user on target, spread over nodes.
func (bc *benchClients) open(tb testing.TB, nodes []*benchNode, user string, key ed25519.PrivateKey, target string, n int) []*benchSession {
	tb.Helper()
	bc.mu.Lock()
	id := bc.next
	bc.next++
	g := make([]*benchSession, n)
	for i := range g {
		g[i] = &benchSession{user: user, group: id, closed: make(chan time.Time, 1)}
	}
	bc.groups[id] = g
	bc.mu.Unlock()
	line := fmt.Sprintf("open %d %s %s %s %d", id, user, target, hex.EncodeToString(key.Seed()), n)
	for _, nd := range nodes {
		line += " " + nd.addr + "=" + base64.StdEncoding.EncodeToString(nd.hostKey.Marshal())
	}
	if err := bc.send(id, line); err != nil {
		tb.Fatalf("open %d sessions as %s: %v", n, user, err)
	}
	return g
}

// close closes the client connections of every group in ss.
func (bc *benchClients) close(tb testing.TB, ss []*benchSession) {
	tb.Helper()
	seen := map[int]bool{}
	for _, s := range ss {
		if seen[s.group] {
			continue
		}
		seen[s.group] = true
		if err := bc.send(s.group, fmt.Sprintf("close %d", s.group)); err != nil {
			tb.Fatalf("close: %v", err)
		}
		bc.mu.Lock()
		delete(bc.groups, s.group)
		bc.mu.Unlock()
	}
}

// runBenchClients is the child: it serves commands from in until its end.
func runBenchClients(in io.Reader, out io.Writer) int {
	// Lines go out in batches, a write for all those waiting: 500 closes
	// seen at once must not cost 500 system calls on the cores the
	// gateway shares with this process.
	var outMu sync.Mutex
	var pending []byte
	kick := make(chan struct{}, 1)
	flushed := make(chan struct{})
	say := func(format string, args ...any) {
		outMu.Lock()
		pending = fmt.Appendf(pending, format+"\n", args...)
		outMu.Unlock()
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	stop := make(chan struct{})
	go func() {
		defer close(flushed)
		for {
			select {
			case <-kick:
			case <-stop:
				return
			}
			outMu.Lock()
			b := pending
			pending = nil
			outMu.Unlock()
			_, _ = out.Write(b)
		}
	}()
	defer func() {
		close(stop) // what readers say while their clients close is dropped
		<-flushed
	}()
	var mu sync.Mutex
	groups := map[string][]*ssh.Client{}
	var wg sync.WaitGroup
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 7 && f[0] == "open":
			wg.Go(func() {
				cs, err := openClients(f[1], f[2], f[3], f[4], f[5], f[6:], say)
				mu.Lock()
				groups[f[1]] = cs
				mu.Unlock()
				if err != nil {
					say("error %s %v", f[1], err)
					return
				}
				say("opened %s", f[1])
			})
		case len(f) == 2 && f[0] == "close":
			mu.Lock()
			cs := groups[f[1]]
			delete(groups, f[1])
			mu.Unlock()
			closeClients(cs)
			say("done %s", f[1])
		default:
			fmt.Fprintf(os.Stderr, "bench clients: bad command %q\n", sc.Text())
			return 2
		}
	}
	wg.Wait()
	for _, cs := range groups {
		closeClients(cs)
	}
	return 0
}

// openClients opens the sessions of one open command, all at once.
func openClients(id, user, target, seedHex, count string, nodes []string, say func(string, ...any)) ([]*ssh.Client, error) {
	seed, err := hex.DecodeString(seedHex)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("bad seed")
	}
	signer, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(count)
	if err != nil || len(nodes) == 0 {
		return nil, fmt.Errorf("bad count or no address")
	}
	clients := make([]*ssh.Client, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := range n {
		addr, hk, _ := strings.Cut(nodes[k%len(nodes)], "=")
		wg.Go(func() {
			clients[k], errs[k] = holdBenchSession(addr, hk, user, target, signer, func() {
				say("closed %s %d %d", id, k, time.Now().UnixNano())
			})
		})
	}
	wg.Wait()
	return clients, errors.Join(errs...)
}

// holdBenchSession dials addr as target with signer, opens a session channel
// and calls closed when the channel's reader sees it end.
func holdBenchSession(addr, hostKey, user, target string, signer ssh.Signer, closed func()) (*ssh.Client, error) {
	wire, err := base64.StdEncoding.DecodeString(hostKey)
	if err != nil {
		return nil, err
	}
	hk, err := ssh.ParsePublicKey(wire)
	if err != nil {
		return nil, err
	}
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User: target, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(hk), Timeout: 10 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("dial as %s: %w", user, err)
	}
	ch, reqs, err := c.OpenChannel("session", nil)
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("session as %s: %w", user, err)
	}
	go ssh.DiscardRequests(reqs)
	go func() {
		buf := make([]byte, 256)
		for {
			if _, err := ch.Read(buf); err != nil {
				closed()
				return
			}
		}
	}()
	return c, nil
}

func closeClients(cs []*ssh.Client) {
	for _, c := range cs {
		if c != nil {
			_ = c.Close()
		}
	}
}
