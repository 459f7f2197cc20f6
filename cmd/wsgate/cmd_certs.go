package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

func newCertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "certs",
		Aliases: []string{"cert"},
		Short:   "Revoke SSH user certificates and keys (site admins)",
	}
	var (
		serial  uint64
		keyFile string
		comment string
		out     *output
	)
	revoke := &cobra.Command{
		Use:   "revoke (--serial N | --key FILE)",
		Short: "Revoke a certificate by serial, or a key with every certificate of it",
		Long: "Revoke an SSH user certificate by its serial (certificates of every trusted CA with that serial),\n" +
			"or a key (a public key or certificate file: the key, and every certificate of it). Live sessions\n" +
			"made with it are dropped on every replica, and it is refused at the next login.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req := apitypes.RevokeCertRequest{Comment: comment}
			bySerial, byKey := cmd.Flags().Changed("serial"), keyFile != ""
			switch {
			case bySerial == byKey:
				return errors.New("give exactly one of --serial N or --key FILE")
			case bySerial:
				req.Serial = strconv.FormatUint(serial, 10)
			default:
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return fmt.Errorf("read --key: %w", err)
				}
				req.Key = strings.TrimSpace(string(b))
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			rc, err := c.RevokeCert(cmd.Context(), req)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out.json() {
				return printJSON(w, rc)
			}
			fmt.Fprintf(w, "Revoked %s; its live sessions are dropped.\n", describeRevocation(rc))
			return nil
		},
	}
	revoke.Flags().Uint64Var(&serial, "serial", 0, "revoke certificates with this serial")
	revoke.Flags().StringVar(&keyFile, "key", "", "revoke the key in this public key or certificate file")
	revoke.Flags().StringVar(&comment, "comment", "", "why, for the list")
	out = addOutputFlag(revoke)

	var listOut *output
	list := &cobra.Command{
		Use:   "list-revoked",
		Short: "List revoked certificates and keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			rs, err := c.ListRevokedCerts(cmd.Context())
			if err != nil {
				return err
			}
			return printRows(cmd.OutOrStdout(), listOut, rs, []string{"REVOKED", "AT", "BY", "COMMENT"}, func(r apitypes.RevokedCert) []string {
				return []string{describeRevocation(r), r.RevokedAt.UTC().Format(time.RFC3339), r.RevokedBy, sanitize(r.Comment)}
			})
		},
	}
	listOut = addOutputFlag(list)
	cmd.AddCommand(revoke, list)
	return cmd
}

func describeRevocation(r apitypes.RevokedCert) string {
	if r.Fingerprint != "" {
		return "key " + r.Fingerprint
	}
	return "serial " + strconv.FormatUint(r.Serial, 10)
}
