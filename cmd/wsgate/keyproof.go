package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// keyProofFlags are the flags of a manual proof, made with ssh-keygen over
// the text `wsgate users keys challenge` printed.
type keyProofFlags struct {
	signature string // armored signature file
	challenge string // challenge file; default: signature without ".sig"
}

// addKeyRequest builds the request that adds the key keyArg names (an
// authorized_keys line or @FILE) to user's account, with a proof when the
// server asks for one: from the manual flags if given, else signed here
// with the ssh-agent or the private key file beside FILE.pub.
func addKeyRequest(ctx context.Context, c *apiclient.Client, user, keyArg, line string, manual keyProofFlags) (apitypes.AddKeyRequest, error) {
	req := apitypes.AddKeyRequest{AuthorizedKey: line}
	if manual.signature != "" {
		return withManualProof(req, manual)
	}
	ch, err := c.KeyChallenge(ctx, user, line)
	if err != nil {
		return req, err
	}
	if !ch.ProofRequired {
		return req, nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return req, fmt.Errorf("parse key: %w", err)
	}
	sig, err := signKeyProof(ch, pub, privateKeyPath(keyArg))
	if err != nil {
		return req, err
	}
	req.Challenge, req.Signature = ch.Challenge, sig
	return req, nil
}

func withManualProof(req apitypes.AddKeyRequest, f keyProofFlags) (apitypes.AddKeyRequest, error) {
	chFile := f.challenge
	if chFile == "" {
		var ok bool
		if chFile, ok = strings.CutSuffix(f.signature, ".sig"); !ok {
			return req, fmt.Errorf("--signature %s does not end in .sig: name the signed challenge file with --challenge", f.signature)
		}
	}
	sig, err := os.ReadFile(f.signature)
	if err != nil {
		return req, fmt.Errorf("read signature: %w", err)
	}
	ch, err := os.ReadFile(chFile)
	if err != nil {
		return req, fmt.Errorf("read challenge: %w", err)
	}
	req.Challenge, req.Signature = string(ch), string(sig)
	return req, nil
}

// privateKeyPath is FILE for a key given as @FILE.pub; "" otherwise.
func privateKeyPath(keyArg string) string {
	path, ok := strings.CutPrefix(keyArg, "@")
	if !ok {
		return ""
	}
	priv, ok := strings.CutSuffix(path, ".pub")
	if !ok {
		return ""
	}
	return priv
}

// signKeyProof signs the challenge with pub's private key, held by the
// ssh-agent (SSH_AUTH_SOCK) or in privPath, and returns the armored
// signature.
func signKeyProof(ch apitypes.KeyChallenge, pub ssh.PublicKey, privPath string) (string, error) {
	fp := ssh.FingerprintSHA256(pub)
	sign := func(s ssh.Signer) (string, error) {
		sig, err := sshsig.Sign(strings.NewReader(ch.Challenge), s, sshsig.HashSHA512, ch.Namespace)
		if err != nil {
			return "", fmt.Errorf("sign key proof with %s: %w", fp, err)
		}
		return string(sshsig.Armor(sig)), nil
	}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			defer conn.Close()
			signers, _ := agent.NewClient(conn).Signers()
			for _, s := range signers {
				if string(s.PublicKey().Marshal()) == string(pub.Marshal()) {
					return sign(s)
				}
			}
		}
	}
	manual := fmt.Sprintf("or sign by hand: wsgate users keys challenge @KEY.pub > challenge.txt; "+
		"ssh-keygen -Y sign -n %s -f KEY challenge.txt; wsgate users keys add @KEY.pub --signature challenge.txt.sig",
		ch.Namespace)
	if privPath == "" {
		return "", fmt.Errorf("adding a key to your own account needs proof that you hold its private key, and ssh-agent does not hold %s: "+
			"load it with ssh-add, give the key as @FILE.pub with its private key in FILE, %s", fp, manual)
	}
	pem, err := os.ReadFile(privPath)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("adding a key to your own account needs proof that you hold its private key: ssh-agent does not hold %s and %s does not exist; "+
			"load the key with ssh-add, %s", fp, privPath, manual)
	}
	if err != nil {
		return "", fmt.Errorf("read private key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	var pp *ssh.PassphraseMissingError
	if errors.As(err, &pp) {
		return "", fmt.Errorf("%s is protected by a passphrase: load it into ssh-agent (ssh-add %s) and run this again, %s", privPath, privPath, manual)
	}
	if err != nil {
		return "", fmt.Errorf("read private key %s: %w", privPath, err)
	}
	if string(s.PublicKey().Marshal()) != string(pub.Marshal()) {
		return "", fmt.Errorf("private key %s is not the key being added (%s)", privPath, fp)
	}
	return sign(s)
}
