package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// newSettingsCmd manages deployment-wide settings (site admins).
func newSettingsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Show or change deployment-wide settings (site admins)",
	}
	set := &cobra.Command{
		Use:     "set KEY=VALUE",
		Short:   "Change a setting (sharing=enabled|disabled)",
		Example: "  wsgate settings set sharing=disabled",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			val, err := parseSharingSetting(args[0])
			if err != nil {
				return err
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			s, err := c.SetDeploymentSharing(cmd.Context(), val)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deployment: sharing=%s\n", s.Sharing)
			return overriddenSharing(val, s)
		},
	}
	show := &cobra.Command{
		Use:   "show",
		Short: "Show the deployment's settings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			s, err := c.GetSettings(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sharing=%s\n", s.Sharing)
			if s.DisabledByServer {
				fmt.Fprintln(cmd.OutOrStdout(), "(the server runs with --disable-sharing, which overrides the stored setting)")
			}
			return nil
		},
	}
	cmd.AddCommand(set, show)
	return cmd
}

// parseSharingSetting reads "sharing=enabled|disabled" and returns the value.
func parseSharingSetting(arg string) (string, error) {
	kv, err := parseKeyValues([]string{arg})
	val, ok := kv["sharing"]
	if err != nil || len(kv) != 1 || !ok || (val != "enabled" && val != "disabled") {
		return "", fmt.Errorf("invalid setting %q: expected sharing=enabled or sharing=disabled", arg)
	}
	return val, nil
}

// parseKeyValues reads KEY=VALUE arguments (settings of the deployment, an
// org or a workspace); a key given twice is an error. Which keys and
// values are valid is the server's to say.
func parseKeyValues(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, errors.New("expected at least one KEY=VALUE")
	}
	out := make(map[string]string, len(args))
	for _, arg := range args {
		key, val, ok := strings.Cut(arg, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("invalid setting %q: expected KEY=VALUE", arg)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("setting %q given twice", key)
		}
		out[key] = val
	}
	return out, nil
}

// overriddenSharing fails a `settings set sharing=enabled` that the
// server's --disable-sharing flag keeps from taking effect: the setting is
// stored, but exiting 0 would read as "sharing is on".
func overriddenSharing(asked string, s apitypes.Settings) error {
	if asked != apitypes.SharingEnabled || !s.DisabledByServer {
		return nil
	}
	return fmt.Errorf("sharing=enabled was stored, but the server runs with --disable-sharing, which overrides it: sharing stays disabled until the server runs without that flag")
}
