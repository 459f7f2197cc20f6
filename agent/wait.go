package agent

import "os"

// waitExit waits for p to end and reaps it. Where it can, it first parks
// in Go's netpoller until the child has exited (parkUntilExit), so a
// running session pins no OS thread; os.Process.Wait blocks one in
// wait4/waitid for the whole life of the program. The Wait that follows
// returns at once.
func waitExit(p *os.Process) (*os.ProcessState, error) {
	_ = parkUntilExit(p.Pid) // on failure Wait blocks as it always did
	return p.Wait()
}
