// Command benchsum summarises `go test -bench` output of benchmarks named
// <group>/<side>, as BenchmarkSSH's <cipher>/<row>/<side>, over several
// rounds: for each group the best and median of each side and the ratios of
// chosen sides. `make bench-ssh` runs it.
//
//	go run ./e2e/internal/benchsum [-ratios a/b,c/d] [file...]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	ratios := flag.String("ratios", "wsgate/sshd-J,wsgate-tls/sshd-J,wsgate/sshd-direct", "side pairs to compare, comma-separated numerator/denominator")
	flag.Parse()
	var pairs [][2]string
	for p := range strings.SplitSeq(*ratios, ",") {
		num, den, ok := strings.Cut(p, "/")
		if !ok {
			fmt.Fprintf(os.Stderr, "benchsum: -ratios: %q is not numerator/denominator\n", p)
			os.Exit(2)
		}
		pairs = append(pairs, [2]string{num, den})
	}
	var in []io.Reader
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchsum:", err)
			os.Exit(1)
		}
		defer f.Close()
		in = append(in, f)
	}
	if len(in) == 0 {
		in = append(in, os.Stdin)
	}
	groups, err := parse(io.MultiReader(in...))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsum:", err)
		os.Exit(1)
	}
	if len(groups) == 0 {
		fmt.Fprintln(os.Stderr, "benchsum: no benchmark results")
		os.Exit(1)
	}
	write(os.Stdout, groups, pairs)
}
