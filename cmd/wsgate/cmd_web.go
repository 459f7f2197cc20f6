package main

import (
	"fmt"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"
)

// newWebCmd: `wsgate web` signs a browser in to the sharing page (and so
// to apps) with a one-time link, so that the long-lived API token never
// reaches the browser.
func newWebCmd() *cobra.Command {
	var noOpen bool
	cmd := &cobra.Command{
		Use:   "web",
		Short: "Sign a browser in to the gateway's web page with a one-time link (valid for a minute)",
		Long: "Prints a link that signs a browser in as you, once, within a minute, and opens it unless --no-open.\n" +
			"The browser gets a session tied to your API token: revoking or expiring the token ends it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			code, err := c.SignInCode(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Open this link within a minute to sign in (it works once):\n%s\n", code.URL)
			if !noOpen {
				if err := openBrowser(code.URL); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "wsgate: could not open a browser (%v); open the link yourself\n", err)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noOpen, "no-open", false, "only print the link")
	return cmd
}

// openBrowser hands url to the desktop's opener, without waiting for it.
func openBrowser(url string) error {
	name := "xdg-open"
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		return fmt.Errorf("not supported on windows")
	}
	cmd := exec.Command(name, url)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
