package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// wsgateBin is the binary under test, built once by TestMain.
var wsgateBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsgate-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wsgateBin = filepath.Join(dir, "wsgate")
	// Agents started without --state-dir keep their keys here, not in
	// the machine's (a test's agent must not find another test's key).
	if err := os.Setenv("WSGATE_AGENT_STATE_DIR", filepath.Join(dir, "agent-state")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// WSGATE_E2E_BIN runs the tests against a binary built elsewhere (for
	// example with -race, or an older release to compare).
	if bin := os.Getenv("WSGATE_E2E_BIN"); bin != "" {
		wsgateBin = bin
	} else if err := buildWsgate(wsgateBin); err != nil {
		fmt.Fprintln(os.Stderr, "build wsgate:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := 0
	func() {
		defer os.RemoveAll(dir)
		code = m.Run()
		if code == 0 {
			if err := goleak.Find(); err != nil {
				fmt.Fprintln(os.Stderr, "goleak:", err)
				code = 1
			}
		}
	}()
	os.Exit(code)
}

func buildWsgate(out string) error {
	build := exec.Command("go", "build", "-o", out, "../cmd/wsgate")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	return build.Run()
}
