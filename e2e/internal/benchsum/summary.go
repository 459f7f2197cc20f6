package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// group is one row of the matrix: its sides' samples by unit, sides in the
// order they first appear.
type group struct {
	name    string
	sides   []string
	samples map[string]map[string][]float64 // side → unit → one value per round
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark result lines ("BenchmarkX/a/b-2  1  123 ns/op  4.5 MB/s")
// into groups, the name's last element being the side. Other lines are
// ignored.
func parse(r io.Reader) ([]*group, error) {
	var groups []*group
	byName := map[string]*group{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			continue
		}
		gname, side := name[:i], name[i+1:]
		g := byName[gname]
		if g == nil {
			g = &group{name: gname, samples: map[string]map[string][]float64{}}
			byName[gname] = g
			groups = append(groups, g)
		}
		if g.samples[side] == nil {
			g.samples[side] = map[string][]float64{}
			g.sides = append(g.sides, side)
		}
		for j := 2; j < len(f); j += 2 {
			v, err := strconv.ParseFloat(f[j], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q: %w", f[0], f[j], err)
			}
			g.samples[side][f[j+1]] = append(g.samples[side][f[j+1]], v)
		}
	}
	return groups, sc.Err()
}

// metric is how a group is judged: a rate (higher is better) if its results
// have one, else time per op.
type metric struct {
	unit, label string
	scale       float64
	higher      bool
}

var metrics = []metric{
	{unit: "MB/s", label: "MB/s", scale: 1, higher: true},
	{unit: "conns/s", label: "conns/s", scale: 1, higher: true},
	{unit: "ns/op", label: "ms/op", scale: 1e-6},
}

// cpuUnit is an extra column, shown when present.
const cpuUnit = "cpu-s/GiB"

// minCPU is the least believable server cpu-s/GiB: an SSH server ciphers
// every byte at least once, and even AES-GCM with AES-NI at several GB/s
// on one core costs about 0.2 s/GiB before the copies and syscalls. Below
// it, the figure is a measurement gone wrong, not an efficient server.
const minCPU = 0.1

// cpuProblem says why side's CPU figure cannot be put in a ratio, or "".
func cpuProblem(side string, s stats) string {
	switch {
	case s.cpu == 0:
		return fmt.Sprintf("%s has no %s", side, cpuUnit)
	case s.cpu < minCPU:
		return fmt.Sprintf("%s's %s of %s is implausibly low (under %g: less than ciphering each byte once), so not measured right", side, cpuUnit, num(s.cpu), minCPU)
	}
	return ""
}

func (g *group) metric() metric {
	for _, m := range metrics {
		for _, s := range g.samples {
			if len(s[m.unit]) > 0 {
				return m
			}
		}
	}
	return metrics[len(metrics)-1]
}

func (g *group) hasCPU() bool {
	for _, s := range g.samples {
		if len(s[cpuUnit]) > 0 {
			return true
		}
	}
	return false
}

// stats are one side's best and median of the group's metric and median
// CPU; a zero value is missing.
type stats struct{ best, median, cpu float64 }

func (g *group) stats(side string, m metric) stats {
	vs := g.samples[side][m.unit]
	if len(vs) == 0 {
		return stats{}
	}
	vs = slices.Sorted(slices.Values(vs))
	best := vs[0]
	if m.higher {
		best = vs[len(vs)-1]
	}
	return stats{best: best * m.scale, median: median(vs) * m.scale, cpu: median(slices.Sorted(slices.Values(g.samples[side][cpuUnit])))}
}

func median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	default:
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
}

// write prints each group: its sides, then the ratios of pairs whose sides
// both ran. Ratios are of the metric itself: above 1 is better for a rate,
// below 1 for time. A CPU ratio is left out, with a note saying why, when
// either side's CPU figure is missing or below minCPU.
func write(w io.Writer, groups []*group, pairs [][2]string) {
	var buf strings.Builder
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for _, g := range groups {
		m := g.metric()
		better := "lower is better"
		if m.higher {
			better = "higher is better"
		}
		cpu := g.hasCPU()
		fmt.Fprintf(tw, "%s: %s, %s\n", g.name, m.label, better)
		fmt.Fprintf(tw, "  side\trounds\tbest\tmedian\t%s\n", when(cpu, cpuUnit+" (median)"))
		for _, side := range g.sides {
			s := g.stats(side, m)
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\n", side, len(g.samples[side][m.unit]), num(s.best), num(s.median), when(cpu, num(s.cpu)))
		}
		// Why CPU ratios were left out, once per side, after the table:
		// a line without tabs would end tabwriter's column block.
		var notes []string
		for _, p := range pairs {
			a, b := g.stats(p[0], m), g.stats(p[1], m)
			if a.median == 0 || b.median == 0 {
				continue
			}
			cpuRatio := ""
			if cpu {
				cpuRatio = fmt.Sprintf("%.2f", a.cpu/b.cpu)
				for i, s := range []stats{a, b} {
					if why := cpuProblem(p[i], s); why != "" {
						cpuRatio = "-"
						if !slices.Contains(notes, why) {
							notes = append(notes, why)
						}
					}
				}
			}
			fmt.Fprintf(tw, "  %s/%s\t\t%.2f\t%.2f\t%s\n", p[0], p[1], a.best/b.best, a.median/b.median, cpuRatio)
		}
		for _, why := range notes {
			fmt.Fprintf(tw, "  no %s ratio: %s\n", cpuUnit, why)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for l := range strings.Lines(buf.String()) {
		fmt.Fprintln(w, strings.TrimRight(l, " \n"))
	}
}

func num(v float64) string {
	if v == 0 {
		return "-"
	}
	prec := 2
	switch {
	case v >= 100:
		prec = 0
	case v >= 10:
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func when(ok bool, s string) string {
	if !ok {
		return ""
	}
	return s
}
