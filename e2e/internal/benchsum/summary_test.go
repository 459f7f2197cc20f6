package main

import (
	"strings"
	"testing"
)

const rounds = `goos: linux
BenchmarkSSH/aes/download/wsgate-2   	1	 100 ns/op	 300.00 MB/s	 2.0 cpu-s/GiB
BenchmarkSSH/aes/download/sshd-J-2   	1	 100 ns/op	 100.00 MB/s	 1.0 cpu-s/GiB
BenchmarkSSH/aes/true/sshd-J-2       	20	 4000000 ns/op
BenchmarkSSH/aes/true/wsgate-2       	20	 1000000 ns/op
PASS
BenchmarkSSH/aes/download/sshd-J-2   	1	 100 ns/op	 200.00 MB/s	 3.0 cpu-s/GiB
BenchmarkSSH/aes/download/wsgate-2   	1	 100 ns/op	 400.00 MB/s	 2.0 cpu-s/GiB
BenchmarkSSH/aes/true/wsgate-2       	20	 3000000 ns/op
BenchmarkSSH/aes/true/sshd-J-2       	20	 2000000 ns/op
BenchmarkSSH/aes/download/wsgate-2   	1	 100 ns/op	 500.00 MB/s	 4.0 cpu-s/GiB
`

func TestSummary(t *testing.T) {
	groups, err := parse(strings.NewReader(rounds))
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[0].name != "BenchmarkSSH/aes/download" || groups[1].name != "BenchmarkSSH/aes/true" {
		t.Fatalf("groups: %+v", groups)
	}
	// A rate's best is its highest; time's best its lowest, in ms.
	down := groups[0]
	if s := down.stats("wsgate", down.metric()); s != (stats{best: 500, median: 400, cpu: 2}) {
		t.Errorf("download wsgate: %+v", s)
	}
	if s := down.stats("sshd-J", down.metric()); s != (stats{best: 200, median: 150, cpu: 2}) {
		t.Errorf("download sshd-J: %+v", s)
	}
	lat := groups[1]
	if s := lat.stats("sshd-J", lat.metric()); s != (stats{best: 2, median: 3}) {
		t.Errorf("true sshd-J: %+v", s)
	}

	var out strings.Builder
	write(&out, groups, [][2]string{{"wsgate", "sshd-J"}, {"wsgate", "sshd-direct"}})
	// Compare with runs of spaces collapsed: the layout is tabwriter's.
	var lines []string
	for l := range strings.Lines(out.String()) {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"BenchmarkSSH/aes/download: MB/s, higher is better",
		"wsgate/sshd-J 2.50 2.67 1.00", // 500/200, 400/150, cpu 2/2
		"BenchmarkSSH/aes/true: ms/op, lower is better",
		"wsgate/sshd-J 0.50 0.67", // 1/2, 2/3
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "sshd-direct") {
		t.Errorf("a ratio with a side that did not run:\n%s", got)
	}
}

// A CPU ratio needs both sides' CPU figures, and believable ones: the old
// listener-only meter read sshd at 0.03 cpu-s/GiB.
func TestSummaryOmitsImplausibleCPURatio(t *testing.T) {
	groups, err := parse(strings.NewReader(`
BenchmarkSSH/aes/download/wsgate-2       	1	 100 ns/op	 300.00 MB/s	 5.0 cpu-s/GiB
BenchmarkSSH/aes/download/wsgate-tls-2   	1	 100 ns/op	 280.00 MB/s
BenchmarkSSH/aes/download/sshd-J-2       	1	 100 ns/op	 300.00 MB/s	 2.5 cpu-s/GiB
BenchmarkSSH/aes/download/sshd-direct-2  	1	 100 ns/op	 600.00 MB/s	 0.03 cpu-s/GiB
`))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	write(&out, groups, [][2]string{{"wsgate", "sshd-J"}, {"wsgate-tls", "sshd-J"}, {"wsgate", "sshd-direct"}, {"sshd-J", "sshd-direct"}})
	var lines []string
	for l := range strings.Lines(out.String()) {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"wsgate/sshd-J 1.00 1.00 2.00\n",   // both measured: 5/2.5
		"wsgate-tls/sshd-J 0.93 0.93 -\n",  // wsgate-tls has none
		"wsgate/sshd-direct 0.50 0.50 -\n", // 0.03 is not believable
		"sshd-J/sshd-direct 0.50 0.50 -\n", // nor here
		"no cpu-s/GiB ratio: wsgate-tls has no cpu-s/GiB",
		"no cpu-s/GiB ratio: sshd-direct's cpu-s/GiB of 0.03 is implausibly low",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "sshd-direct's cpu-s/GiB"); n != 1 {
		t.Errorf("the sshd-direct note %d times, want once:\n%s", n, got)
	}
}
