package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// debianPython is where Debian's python3-* packages are importable: a
// python3 earlier on PATH (pyenv, a virtualenv) does not see them.
const debianPython = "/usr/bin/python3"

// requirePyModule returns the interpreter that imports module. Like
// requireTool it skips on a developer's machine without the package and
// fails under CI=true, because .ci/run installs python3-paramiko and
// python3-asyncssh.
func requirePyModule(t testing.TB, module string) string {
	t.Helper()
	py := debianPython
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			py = ""
		}
	}
	if py != "" && exec.Command(py, "-I", "-W", "ignore", "-c", "import "+module).Run() == nil {
		return py
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("python module %s is not importable by %q (CI must install python3-%s)", module, py, module)
	}
	t.Skipf("python module %s not installed (apt-get install python3-%s)", module, module)
	return ""
}

// pyRun runs e2e/testdata/<script> as user against target in d with the
// user's ed25519 key and the host keys in knownHosts.
func (d *devEnv) pyRun(t testing.TB, py, script, user, target, knownHosts, stdin string, args ...string) result {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	// -I: no PYTHON* variables or user site; HOME: no ~/.ssh of this machine.
	argv := append([]string{"-I", "-W", "ignore", script, d.sshHost, d.sshPort, target, d.key(user), knownHosts}, args...)
	env := append(os.Environ(), "HOME="+t.TempDir(), "SSH_AUTH_SOCK=")
	return runWith(t, 90*time.Second, env, strings.NewReader(stdin), py, argv...)
}

// pyClient is pyRun with the dev known_hosts; it decodes the JSON the
// script prints into out.
func (d *devEnv) pyClient(t testing.TB, py, script, user, target, stdin string, out any, args ...string) {
	t.Helper()
	r := d.pyRun(t, py, script, user, target, filepath.Join(d.dir, "known_hosts"), stdin, args...)
	if r.code != 0 {
		t.Fatalf("%s %v: exit %d\nstdout: %s\nstderr: %s", script, args, r.code, r.stdout, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), out); err != nil {
		t.Fatalf("%s %v printed %q: %v (stderr %q)", script, args, r.stdout, err, r.stderr)
	}
}

type pyExecResult struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Status int    `json:"status"`
}

// pyExecCommand reads stdin to EOF, so the result also shows that the
// client's EOF reached the command.
const pyExecCommand = `cat; echo "err $WSGATE_USER" >&2; exit 3`

func checkPyExec(t *testing.T, got pyExecResult) {
	t.Helper()
	want := pyExecResult{Stdout: "from stdin\n", Stderr: "err alice\n", Status: 3}
	if got != want {
		t.Fatalf("exec: got %+v, want %+v", got, want)
	}
}

// writePayload writes a 1 MiB file under a new temporary directory and
// returns its path and content.
func writePayload(t *testing.T) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "payload.bin")
	writeRandomFile(t, path, 1<<20)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// TestParamiko drives the gateway with Debian's paramiko as alice.
func TestParamiko(t *testing.T) {
	py := requirePyModule(t, "paramiko")
	d := startDev(t)
	wsDir := d.workspaceDir()

	t.Run("exec", func(t *testing.T) {
		var got pyExecResult
		d.pyClient(t, py, "paramiko_client.py", "alice", "alice-ws", "from stdin\n", &got, "exec", pyExecCommand)
		checkPyExec(t, got)
	})

	t.Run("sftp", func(t *testing.T) {
		local, payload := writePayload(t)
		if err := os.Mkdir(filepath.Join(wsDir, "paramiko-sftp"), 0o755); err != nil {
			t.Fatal(err)
		}
		var got struct {
			PutSize            int64    `json:"put_size"`
			StatSize           int64    `json:"stat_size"`
			ListdirAfterPut    []string `json:"listdir_after_put"`
			ListdirAfterRename []string `json:"listdir_after_rename"`
			GetEqual           bool     `json:"get_equal"`
			ListdirAfterRemove []string `json:"listdir_after_remove"`
			StatRemoved        string   `json:"stat_removed"`
		}
		d.pyClient(t, py, "paramiko_client.py", "alice", "alice-ws", "", &got, "sftp", local, "paramiko-sftp")
		size := int64(len(payload))
		switch {
		case got.PutSize != size || got.StatSize != size:
			t.Fatalf("put reported %d bytes, stat %d, want %d", got.PutSize, got.StatSize, size)
		case !slices.Equal(got.ListdirAfterPut, []string{"p.bin"}):
			t.Fatalf("listdir after put: %q", got.ListdirAfterPut)
		case !slices.Equal(got.ListdirAfterRename, []string{"renamed.bin"}):
			t.Fatalf("listdir after rename: %q", got.ListdirAfterRename)
		case !got.GetEqual:
			t.Fatal("get returned other bytes than were put")
		case len(got.ListdirAfterRemove) != 0 || got.StatRemoved != "not found":
			t.Fatalf("after remove: listdir %q, stat %s", got.ListdirAfterRemove, got.StatRemoved)
		}
		// What the client saw is what the workspace has on disk.
		if b, err := os.ReadFile(filepath.Join(wsDir, "paramiko-sftp", "kept.bin")); err != nil || string(b) != string(payload) {
			t.Fatalf("kept.bin on the workspace's disk: %d bytes, %v; want the %d put", len(b), err, size)
		}
		if _, err := os.Stat(filepath.Join(wsDir, "paramiko-sftp", "renamed.bin")); !os.IsNotExist(err) {
			t.Fatalf("renamed.bin still on disk after remove: %v", err)
		}
	})
}

// TestAsyncSSH drives the gateway with Debian's asyncssh as alice.
func TestAsyncSSH(t *testing.T) {
	py := requirePyModule(t, "asyncssh")
	d := startDev(t)
	wsDir := d.workspaceDir()

	t.Run("exec", func(t *testing.T) {
		var got pyExecResult
		d.pyClient(t, py, "asyncssh_client.py", "alice", "alice-ws", "from stdin\n", &got, "exec", pyExecCommand)
		checkPyExec(t, got)
	})

	t.Run("sftp", func(t *testing.T) {
		local, payload := writePayload(t)
		if err := os.Mkdir(filepath.Join(wsDir, "asyncssh-sftp"), 0o755); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Listdir  []string `json:"listdir"`
			StatSize int64    `json:"stat_size"`
			GetEqual bool     `json:"get_equal"`
		}
		d.pyClient(t, py, "asyncssh_client.py", "alice", "alice-ws", "", &got, "sftp", local, "asyncssh-sftp")
		switch {
		case !slices.Equal(got.Listdir, []string{"a.bin"}):
			t.Fatalf("listdir after put: %q", got.Listdir)
		case got.StatSize != int64(len(payload)):
			t.Fatalf("stat size %d, want %d", got.StatSize, len(payload))
		case !got.GetEqual:
			t.Fatal("get returned other bytes than were put")
		}
		if b, err := os.ReadFile(filepath.Join(wsDir, "asyncssh-sftp", "a.bin")); err != nil || string(b) != string(payload) {
			t.Fatalf("a.bin on the workspace's disk: %d bytes, %v; want the %d put", len(b), err, len(payload))
		}
	})
}

// TestPythonHostKeyPinned: both clients refuse the gateway when their
// known_hosts holds another key for it, so the tests above did check the
// gateway's host key rather than trust whatever it showed.
func TestPythonHostKeyPinned(t *testing.T) {
	d := startDev(t)
	// bob's public key stands in for an impostor's host key.
	pub, err := os.ReadFile(d.key("bob") + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(t.TempDir(), "known_hosts")
	line := "[" + d.sshHost + "]:" + d.sshPort + " " + strings.TrimSpace(string(pub)) + "\n"
	if err := os.WriteFile(wrong, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ module, script, want string }{
		{"paramiko", "paramiko_client.py", "does not match"},
		{"asyncssh", "asyncssh_client.py", "Host key is not trusted"},
	} {
		t.Run(c.module, func(t *testing.T) {
			py := requirePyModule(t, c.module)
			r := d.pyRun(t, py, c.script, "alice", "alice-ws", wrong, "", "exec", "echo in")
			if r.code == 0 || strings.Contains(r.stdout, "in") {
				t.Fatalf("connected despite a wrong host key: %d %q", r.code, r.stdout)
			}
			mustContain(t, "stderr", r.stderr, c.want)
		})
	}
}
