"""paramiko client for e2e/python_test.go.

usage: paramiko_client.py HOST PORT LOGIN KEY KNOWN_HOSTS exec COMMAND  (stdin: the command's input)
       paramiko_client.py HOST PORT LOGIN KEY KNOWN_HOSTS sftp LOCAL_FILE REMOTE_DIR
       paramiko_client.py HOST PORT LOGIN KEY KNOWN_HOSTS symlink TARGET LINK

Prints one JSON object of what it observed; the Go test judges it. The host
key must be in KNOWN_HOSTS (RejectPolicy): nothing is trusted on first use.
"""
import json
import sys

import paramiko


def connect(host, port, login, key, known_hosts):
    c = paramiko.SSHClient()
    c.load_host_keys(known_hosts)
    c.set_missing_host_key_policy(paramiko.RejectPolicy())
    c.connect(host, port=int(port), username=login,
              pkey=paramiko.Ed25519Key.from_private_key_file(key),
              allow_agent=False, look_for_keys=False, timeout=20)
    return c


def do_exec(c, command):
    stdin, stdout, stderr = c.exec_command(command, timeout=30)
    stdin.write(sys.stdin.buffer.read())
    stdin.channel.shutdown_write()
    out, err = stdout.read(), stderr.read()
    return {"stdout": out.decode(), "stderr": err.decode(),
            "status": stdout.channel.recv_exit_status()}


def do_sftp(c, local, remote_dir):
    s = c.open_sftp()
    s.chdir(remote_dir)
    res = {}
    res["put_size"] = s.put(local, "p.bin").st_size
    res["stat_size"] = s.stat("p.bin").st_size
    res["listdir_after_put"] = sorted(s.listdir("."))
    s.rename("p.bin", "renamed.bin")
    res["listdir_after_rename"] = sorted(s.listdir("."))
    back = local + ".back"
    s.get("renamed.bin", back)
    with open(local, "rb") as a, open(back, "rb") as b:
        res["get_equal"] = a.read() == b.read()
    s.remove("renamed.bin")
    res["listdir_after_remove"] = sorted(s.listdir("."))
    try:
        s.stat("renamed.bin")
        res["stat_removed"] = "exists"
    except FileNotFoundError:
        res["stat_removed"] = "not found"
    # A second file stays, so the test can check it on the workspace's disk.
    s.put(local, "kept.bin")
    s.close()
    return res


def do_symlink(c, target, link):
    s = c.open_sftp()
    s.symlink(target, link)
    res = {"readlink": s.readlink(link)}
    s.close()
    return res


def main():
    host, port, login, key, known_hosts, mode = sys.argv[1:7]
    c = connect(host, port, login, key, known_hosts)
    try:
        if mode == "exec":
            res = do_exec(c, sys.argv[7])
        elif mode == "sftp":
            res = do_sftp(c, sys.argv[7], sys.argv[8])
        elif mode == "symlink":
            res = do_symlink(c, sys.argv[7], sys.argv[8])
        else:
            sys.exit("unknown mode " + mode)
    finally:
        c.close()
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    main()
