package gateway

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The revocation benchmarks' clients, agent and second replica, in
	// processes of their own.
	switch {
	case os.Getenv(benchClientsEnv) != "":
		os.Exit(runBenchClients(os.Stdin, os.Stdout))
	case os.Getenv(benchAgentEnv) != "":
		os.Exit(runBenchAgent(os.Stdin))
	case os.Getenv(benchReplicaEnv) != "":
		os.Exit(runBenchReplica(os.Stdin, os.Stdout))
	}
	goleak.VerifyTestMain(m)
}
