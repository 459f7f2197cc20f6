package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/internal/atomicfile"
	"github.com/wsgate/wsgate/internal/tlsconf"
)

// cliConfig is what `wsgate login` stores: the gateway URL, an API token
// and, for a gateway with a private CA, the CA file (an absolute path).
type cliConfig struct {
	URL    string `json:"url"`
	Token  string `json:"token"`
	CAFile string `json:"ca_file,omitempty"`
}

// Environment variables that override the stored login.
const (
	envURL    = "WSGATE_URL"
	envToken  = "WSGATE_TOKEN"
	envCAFile = "WSGATE_CA_FILE"
)

// cliConfigPath is <user config dir>/wsgate/config.json.
func cliConfigPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config directory: %w", err)
	}
	return filepath.Join(dir, "wsgate", "config.json"), nil
}

// loadCLIConfig reads the stored login, then applies WSGATE_URL,
// WSGATE_TOKEN and WSGATE_CA_FILE. A missing file is no error.
func loadCLIConfig() (cliConfig, error) {
	var c cliConfig
	path, err := cliConfigPath()
	if err != nil {
		return c, err
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return c, fmt.Errorf("read %s: %w", path, err)
	default:
		if err := json.Unmarshal(data, &c); err != nil {
			return c, fmt.Errorf("read %s: %w", path, err)
		}
	}
	if v := os.Getenv(envURL); v != "" {
		c.URL = v
	}
	if v := os.Getenv(envToken); v != "" {
		c.Token = v
	}
	if v := os.Getenv(envCAFile); v != "" {
		c.CAFile = v
	}
	return c, nil
}

// saveCLIConfig writes the login with mode 0600 (it holds a secret),
// atomically so that a crash never leaves half a file.
func saveCLIConfig(c cliConfig) (string, error) {
	path, err := cliConfigPath()
	if err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create config directory: %w", err)
	}
	if err := atomicfile.Write(path, append(data, '\n'), 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// newAPIClient returns a client from the stored login and the environment.
func newAPIClient() (*apiclient.Client, error) {
	c, err := loadCLIConfig()
	if err != nil {
		return nil, err
	}
	if c.URL == "" || c.Token == "" {
		return nil, fmt.Errorf("not logged in: run `wsgate login URL` or set %s and %s", envURL, envToken)
	}
	return dialAPI(c.URL, c.Token, c.CAFile)
}

// dialAPI is where every CLI command's API client is built: it trusts the
// system roots plus caFile (may be empty).
func dialAPI(url, token, caFile string) (*apiclient.Client, error) {
	tlsConfig, err := tlsconf.ClientConfig(caFile)
	if err != nil {
		return nil, err
	}
	return apiclient.New(url, token, apiclient.WithTLSConfig(tlsConfig))
}
