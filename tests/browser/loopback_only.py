"""Runs a command in a network namespace of its own whose only interface is loopback, with some
TCP ports of the host's loopback carried into it, so that the browser under test can reach the
test servers and nothing else.

    python3 loopback_only.py PORT[,PORT...] -- COMMAND [ARG...]

Outside, a bridge accepts on a Unix socket per port (a file: the one thing both namespaces see)
and connects to 127.0.0.1:PORT. Inside (`unshare --net`), loopback is brought up and a listener on
127.0.0.1:PORT connects to that Unix socket. Every other address is unreachable: the namespace has
no route out. The command's exit status is this script's.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading


def pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass


def join(client, connect):
    try:
        upstream = connect()
    except OSError:
        client.close()
        return
    t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    t.start()
    pump(client, upstream)
    t.join()
    client.close()
    upstream.close()


def serve(listener, connect):
    while True:
        client, _ = listener.accept()
        threading.Thread(target=join, args=(client, connect), daemon=True).start()


def tcp_to(port):
    return lambda: socket.create_connection(("127.0.0.1", port))


def unix_to(path):
    def connect():
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        return s

    return connect


def ip_command():
    return shutil.which("ip") or next((p for p in ("/usr/sbin/ip", "/sbin/ip") if os.path.exists(p)), None)


def outside(ports, command):
    if not shutil.which("unshare") or not ip_command():
        raise SystemExit("loopback_only: unshare (util-linux) and ip (iproute2) are needed")
    dir = tempfile.mkdtemp(prefix="corsair-netns-")
    try:
        for p in ports:
            l = socket.socket(socket.AF_UNIX)
            l.bind(os.path.join(dir, "%d.sock" % p))
            l.listen(128)
            threading.Thread(target=serve, args=(l, tcp_to(p)), daemon=True).start()
        inner = [sys.executable, os.path.abspath(__file__), "--inside", dir, ",".join(map(str, ports)), "--"]
        # Without root, a user namespace maps this user to root inside, which may create the
        # network namespace.
        userns = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        code = subprocess.call(["unshare", *userns, "--net", "--", *inner, *command])
        sys.exit(code)
    finally:
        shutil.rmtree(dir, ignore_errors=True)


def inside(dir, ports, command):
    subprocess.check_call([ip_command(), "link", "set", "lo", "up"])
    for p in ports:
        l = socket.socket()
        l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(("127.0.0.1", p))
        l.listen(128)
        threading.Thread(target=serve, args=(l, unix_to(os.path.join(dir, "%d.sock" % p))), daemon=True).start()
    sys.exit(subprocess.call(command))


def main():
    args = sys.argv[1:]
    if args and args[0] == "--inside":
        dir, ports, rest = args[1], args[2], args[3:]
        inside(dir, [int(p) for p in ports.split(",")], rest[1:])
    if len(args) < 3 or args[1] != "--":
        raise SystemExit(__doc__)
    outside([int(p) for p in args[0].split(",")], args[2:])


if __name__ == "__main__":
    main()
