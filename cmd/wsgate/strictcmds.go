package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// strictSubcommands makes every command that only groups subcommands
// refuse an unknown one: cobra itself prints the group's help and exits 0
// for `wsgate sharing status`, which a script cannot tell from success.
// The error names the closest subcommands, as cobra does at the root.
func strictSubcommands(root *cobra.Command) {
	root.SuggestionsMinimumDistance = 2
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c == root || !c.HasSubCommands() || c.Runnable() {
			return
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return unknownSubcommand(cmd, args[0])
		}
	}
	walk(root)
}

func unknownSubcommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if s := suggest(cmd, name); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return fmt.Errorf("%s\n\nRun '%s --help' for usage", msg, cmd.CommandPath())
}

// suggest is cobra's SuggestionsFor, which also looks at aliases (Coder's
// names are aliases here): a subcommand whose name or alias starts with
// typed, or is within SuggestionsMinimumDistance edits of it.
func suggest(cmd *cobra.Command, typed string) []string {
	typed = strings.ToLower(typed)
	var out []string
	for _, sub := range cmd.Commands() {
		if !sub.IsAvailableCommand() {
			continue
		}
		for _, n := range append([]string{sub.Name()}, sub.Aliases...) {
			n = strings.ToLower(n)
			if strings.HasPrefix(n, typed) || editDistance(n, typed) <= 2 {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
