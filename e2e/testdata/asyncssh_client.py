"""asyncssh client for e2e/python_test.go.

usage: asyncssh_client.py HOST PORT LOGIN KEY KNOWN_HOSTS exec COMMAND  (stdin: the command's input)
       asyncssh_client.py HOST PORT LOGIN KEY KNOWN_HOSTS sftp LOCAL_FILE REMOTE_DIR
       asyncssh_client.py HOST PORT LOGIN KEY KNOWN_HOSTS symlink TARGET LINK

Prints one JSON object of what it observed; the Go test judges it. The host
key is checked against KNOWN_HOSTS; no OpenSSH config and no agent are used.
"""
import asyncio
import json
import sys

import asyncssh


async def do_exec(conn, command):
    r = await conn.run(command, input=sys.stdin.read(), check=False, timeout=30)
    return {"stdout": r.stdout, "stderr": r.stderr, "status": r.exit_status}


async def do_sftp(conn, local, remote_dir):
    res = {}
    async with conn.start_sftp_client() as s:
        await s.chdir(remote_dir)
        await s.put(local, "a.bin")
        res["listdir"] = sorted(await s.listdir("."))
        res["stat_size"] = (await s.stat("a.bin")).size
        back = local + ".back"
        await s.get("a.bin", back)
        with open(local, "rb") as a, open(back, "rb") as b:
            res["get_equal"] = a.read() == b.read()
    return res


async def do_symlink(conn, target, link):
    async with conn.start_sftp_client() as s:
        await s.symlink(target, link)
        return {"readlink": await s.readlink(link)}


async def main():
    host, port, login, key, known_hosts, mode = sys.argv[1:7]
    async with asyncssh.connect(host, port=int(port), username=login,
                                client_keys=[key], known_hosts=known_hosts,
                                agent_path=None, config=[],
                                connect_timeout=20) as conn:
        if mode == "exec":
            res = await do_exec(conn, sys.argv[7])
        elif mode == "sftp":
            res = await do_sftp(conn, sys.argv[7], sys.argv[8])
        elif mode == "symlink":
            res = await do_symlink(conn, sys.argv[7], sys.argv[8])
        else:
            sys.exit("unknown mode " + mode)
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
