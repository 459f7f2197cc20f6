package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// bindEnv lets every flag of cmd also come from WSGATE_<FLAG> (upper case,
// dashes as underscores). A flag given on the command line wins.
func bindEnv(cmd *cobra.Command) error { return bindEnvPrefix(cmd, "WSGATE_") }

// bindEnvPrefix is bindEnv with another prefix (the agent's WSGATE_AGENT_).
func bindEnvPrefix(cmd *cobra.Command, prefix string) error {
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || firstErr != nil {
			return
		}
		name := prefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if err := f.Value.Set(v); err != nil {
			firstErr = fmt.Errorf("invalid %s: %w", name, err)
		}
	})
	return firstErr
}
