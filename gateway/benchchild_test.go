package gateway

import (
	"io"
	"os"
	"os/exec"
	"testing"
)

// startBenchChild starts this test binary again as the benchmarks' child
// who, its role set by env (see TestMain). It returns the child's input,
// whose end stops it, and its output (nil when wantOut is false: the
// output then joins stderr). Cleanup closes the input, calls drained (when
// set: it returns once the output was read to its end) and waits for the
// child.
func startBenchChild(tb testing.TB, who string, env []string, wantOut bool, drained func()) (io.WriteCloser, io.Reader) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	var out io.Reader
	if wantOut {
		if out, err = cmd.StdoutPipe(); err != nil {
			tb.Fatal(err)
		}
	} else {
		cmd.Stdout = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the %s: %v", who, err)
	}
	tb.Cleanup(func() {
		_ = in.Close()
		if drained != nil {
			drained()
		}
		if err := cmd.Wait(); err != nil {
			tb.Errorf("the %s: %v", who, err)
		}
	})
	return in, out
}
