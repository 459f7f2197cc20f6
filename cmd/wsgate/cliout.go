package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// output is the -o flag of listing commands, and -c where a command has
// one (cmd_list_columns.go).
type output struct {
	format  string
	columns []string
}

// addOutputFlag adds -o to cmd and checks its value before cmd runs, so a
// bad format fails before any request.
func addOutputFlag(cmd *cobra.Command) *output {
	o := &output{}
	cmd.Flags().StringVarP(&o.format, "output", "o", "table", "output format: table or json")
	cmd.PreRunE = func(*cobra.Command, []string) error { return o.validate() }
	return o
}

func (o *output) validate() error {
	if o.format != "table" && o.format != "json" {
		return fmt.Errorf("invalid output format %q: expected table or json", o.format)
	}
	return nil
}

func (o *output) json() bool { return o.format == "json" }

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printRows writes items as JSON with -o json, else as a table under
// headers with one row per item.
func printRows[T any](w io.Writer, out *output, items []T, headers []string, row func(T) []string) error {
	if out.json() {
		return printJSON(w, items)
	}
	t := newTable(w, headers...)
	for _, x := range items {
		t.row(row(x)...)
	}
	return t.flush()
}

// formatTime is t in RFC 3339 (UTC), or "" for the zero time ("no expiry").
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, headers ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(headers...)
	return t
}

// row writes one row; cells are sanitized, as they mostly hold what the
// server sent.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		} else {
			cells[i] = sanitize(c)
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }
