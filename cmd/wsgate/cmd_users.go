package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

func newUsersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "users",
		Aliases: []string{"user"},
		Short:   "Manage users and their SSH keys",
	}
	cmd.AddCommand(
		newUsersCreateCmd(),
		newUsersListCmd(),
		newUsersShowCmd(),
		newUsersSuspendCmd("suspend", true),
		newUsersSuspendCmd("unsuspend", false),
		newUsersSetCmd(),
		newUsersDeleteCmd(),
		newUsersKeysCmd(),
	)
	return cmd
}

// readKey takes an authorized_keys line, or @FILE to read one from a file.
func readKey(arg string) (string, error) {
	path, ok := strings.CutPrefix(arg, "@")
	if !ok {
		return arg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read key: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

func newUsersCreateCmd() *cobra.Command {
	var (
		req  apitypes.CreateUserRequest
		keys []string
		out  *output
	)
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a user (site admins only)",
		Example: "  wsgate users create bob --key @bob.pub",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name = args[0]
			for _, k := range keys {
				line, err := readKey(k)
				if err != nil {
					return err
				}
				req.Keys = append(req.Keys, line)
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			u, err := c.CreateUser(cmd.Context(), req)
			if err != nil {
				return err
			}
			return printUsers(cmd.OutOrStdout(), []apitypes.User{u}, out)
		},
	}
	cmd.Flags().StringVar(&req.DisplayName, "display-name", "", "display name")
	cmd.Flags().StringVar(&req.Org, "org", "", "organization")
	cmd.Flags().BoolVar(&req.SiteAdmin, "site-admin", false, "make the user a site admin")
	cmd.Flags().StringArrayVar(&keys, "key", nil, "SSH public key, or @FILE (repeatable)")
	out = addOutputFlag(cmd)
	return cmd
}

func printUsers(w io.Writer, us []apitypes.User, out *output) error {
	return printRows(w, out, us, []string{"USER", "DISPLAY NAME", "ORG", "SITE ADMIN", "STATUS", "GROUPS", "KEYS"}, func(u apitypes.User) []string {
		status := "active"
		if u.Suspended {
			status = "suspended"
		}
		return []string{u.Name, u.DisplayName, u.Org, strconv.FormatBool(u.SiteAdmin), status, strings.Join(u.Groups, ","), strconv.Itoa(len(u.Keys))}
	})
}

func newUsersListCmd() *cobra.Command {
	var out *output
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users (site admins only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			us, err := c.ListUsers(cmd.Context())
			if err != nil {
				return err
			}
			return printUsers(cmd.OutOrStdout(), us, out)
		},
	}
	out = addOutputFlag(cmd)
	return cmd
}

func newUsersShowCmd() *cobra.Command {
	var out *output
	cmd := &cobra.Command{
		Use:   "show [NAME]",
		Short: "Show a user (default you)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			u, err := c.GetUser(cmd.Context(), userArg(args, 0))
			if err != nil {
				return err
			}
			return printUsers(cmd.OutOrStdout(), []apitypes.User{u}, out)
		},
	}
	out = addOutputFlag(cmd)
	return cmd
}

func newUsersSuspendCmd(verb string, suspend bool) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a user (site admins only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			if _, err := c.SetSuspended(cmd.Context(), args[0], suspend); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "User %s %sed.\n", args[0], verb)
			return nil
		},
	}
}

func newUsersSetCmd() *cobra.Command {
	var siteAdmin bool
	cmd := &cobra.Command{
		Use:   "set NAME --site-admin=true|false",
		Short: "Grant or revoke the site admin role (site admins only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("site-admin") {
				return fmt.Errorf("nothing to set: give --site-admin=true or --site-admin=false")
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			u, err := c.SetSiteAdmin(cmd.Context(), args[0], siteAdmin)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "User %s: site admin %t.\n", u.Name, u.SiteAdmin)
			return nil
		},
	}
	cmd.Flags().BoolVar(&siteAdmin, "site-admin", false, "whether the user is a site admin")
	return cmd
}

func newUsersKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "List, add and remove SSH keys (yours, or anyone's for site admins)",
	}
	var out *output
	list := &cobra.Command{
		Use:   "list [USER]",
		Short: "List SSH keys",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			ks, err := c.ListKeys(cmd.Context(), userArg(args, 0))
			if err != nil {
				return err
			}
			return printRows(cmd.OutOrStdout(), out, ks, []string{"FINGERPRINT", "COMMENT", "ADDED"}, func(k apitypes.PublicKey) []string {
				return []string{k.Fingerprint, k.Comment, k.AddedAt.UTC().Format("2006-01-02 15:04")}
			})
		},
	}
	out = addOutputFlag(list)
	var proof keyProofFlags
	add := &cobra.Command{
		Use:   "add [USER] KEY|@FILE",
		Short: "Add an SSH public key",
		Long: `Add an SSH public key. To your own account, you prove you hold its
private key: wsgate signs a challenge from the gateway with the key in your
ssh-agent, or with the private key file beside FILE.pub. Site admins add
keys to other accounts without proof.`,
		Example: "  wsgate users keys add @$HOME/.ssh/id_ed25519.pub\n" +
			"  wsgate users keys add @key.pub --signature challenge.txt.sig   # signed by hand, see 'keys challenge'",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			user, keyArg := userAndArg(args)
			line, err := readKey(keyArg)
			if err != nil {
				return err
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			req, err := addKeyRequest(cmd.Context(), c, user, keyArg, line, proof)
			if err != nil {
				return err
			}
			k, err := c.AddKeyWithProof(cmd.Context(), user, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added key %s.\n", k.Fingerprint)
			return nil
		},
	}
	add.Flags().StringVar(&proof.signature, "signature", "", "signature made by hand with ssh-keygen -Y sign over the output of 'keys challenge'")
	add.Flags().StringVar(&proof.challenge, "challenge", "", "the signed challenge file (default: the --signature file without .sig)")
	challenge := &cobra.Command{
		Use:   "challenge [USER] KEY|@FILE",
		Short: "Print a challenge to sign by hand, proving you hold a key's private key",
		Long: `Print a challenge (valid for 5 minutes) for adding KEY to your account.
Sign it with the key and add the key with the signature:

  wsgate users keys challenge @key.pub > challenge.txt
  ssh-keygen -Y sign -n ` + apitypes.KeyProofNamespace + ` -f key challenge.txt
  wsgate users keys add @key.pub --signature challenge.txt.sig

'wsgate users keys add' does this by itself when the key is in ssh-agent
or its private key file is beside the .pub.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			user, keyArg := userAndArg(args)
			line, err := readKey(keyArg)
			if err != nil {
				return err
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			ch, err := c.KeyChallenge(cmd.Context(), user, line)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), ch.Challenge)
			fmt.Fprintf(cmd.ErrOrStderr(), "Sign it before %s with: ssh-keygen -Y sign -n %s -f KEY FILE\n",
				ch.ExpiresAt.Local().Format("15:04:05"), ch.Namespace)
			return nil
		},
	}
	remove := &cobra.Command{
		Use:   "remove [USER] FINGERPRINT",
		Short: "Remove an SSH key by its SHA256 fingerprint",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			user, fp := userAndArg(args)
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			if err := c.RemoveKey(cmd.Context(), user, fp); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed key %s.\n", fp)
			return nil
		},
	}
	cmd.AddCommand(list, add, challenge, remove)
	return cmd
}
