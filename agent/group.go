package agent

import "sync"

// group tracks goroutines that a shutdown must wait for. Once closed it
// refuses new members, so Add never races with Wait.
type group struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// enter registers the caller as a member; false once the group is closed.
// A true result must be paired with leave.
func (g *group) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	return true
}

func (g *group) leave() { g.wg.Done() }

// goFn runs f in a member goroutine; false (and f not run) once closed.
func (g *group) goFn(f func()) bool {
	if !g.enter() {
		return false
	}
	go func() {
		defer g.leave()
		f()
	}()
	return true
}

// close refuses new members and waits for the current ones.
func (g *group) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}
