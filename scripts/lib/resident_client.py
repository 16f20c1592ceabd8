"""The resident CLI's client: hands a scripts/keyrotor command line to the resident CLI process.

    python3 -I -S scripts/lib/resident_client.py SOCKET ARGS...     (run by scripts/keyrotor)

Sends ARGS, the working directory and whether stderr is a terminal over the Unix domain socket
SOCKET (the frames are described in cli's ResidentProtocol.java), writes the command's stdout and
stderr as they come and exits with its status. It exits 199 when the command is one that runs in a
JVM of its own (see direct_reason) or the process declined it, and 198 when no process answers or
it asked for a new one: scripts/keyrotor then runs the command itself (and, for 198, starts a
resident process in the background). Nothing is written before the process accepted the command,
so such a fallback never repeats output.

`ARGS = resident status|stop` are answered here: the process's state, or stop it.
"""

import os
import socket
import stat
import struct
import sys

RUN_DIRECT = 199
START_RESIDENT = 198

# Top-level commands the resident process runs. Not: agent and events (servers that run until
# stopped), backup (a long job with progress), help (picocli colours it for a terminal).
RESIDENT_COMMANDS = {
    "key", "datakey", "encrypt", "decrypt", "reencrypt", "cluster", "zone", "rotations",
    "policy", "compliance", "audit",
}
# Options of the root command that take a value (so the value is not taken for the command).
ROOT_OPTIONS_WITH_VALUE = {
    "--cluster-dir", "--servers", "--identity", "--ca", "--cert", "--tls-key", "--key",
    "--deadline",
}
# Words that send a command line to a JVM of its own wherever they appear: "-" is standard input
# or output (--in -, --out -, policy set -), help is coloured for a terminal, --wait is a long
# job that shows progress and ends with Ctrl-C.
DIRECT_WORDS = {"-", "--help", "-h", "--wait"}

# Accepting a command must not take long; once accepted, it runs as long as it needs.
CONNECT_TIMEOUT_SECONDS = 5.0


def direct_reason(args):
    """Why ARGS run in a JVM of their own, or None when the resident process runs them."""
    for arg in args:
        if arg in DIRECT_WORDS or arg.endswith("=-"):
            return "reads standard input or shows help or progress: " + arg
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return "an argument is not UTF-8"
    words = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            if not words and arg in ROOT_OPTIONS_WITH_VALUE:
                skip = True
        else:
            words.append(arg)
    if not words:
        return None  # --version, or a usage error
    if words[0] not in RESIDENT_COMMANDS:
        return "command " + words[0]
    if words[0] == "key" and len(words) > 1 and words[1] == "watch":
        return "key watch runs until stopped"
    return None


def private_directory(path):
    """Whether PATH is a directory of this user that no one else may enter (or None if absent)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and info.st_mode & 0o077 == 0)


def stderr_is_terminal():
    """As the CLI's Terminal.stderrIsTerminal: where /proc/self/fd/2 points."""
    try:
        target = os.readlink("/proc/self/fd/2")
    except OSError:
        return False
    return (target.startswith("/dev/pts/") or target.startswith("/dev/tty")
            or target == "/dev/console")


def connect(path):
    """A connection to the process at PATH, checked to be this user's, or None."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT_SECONDS)
    try:
        sock.connect(path)
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        sock.close()
        return None
    _, uid, _ = struct.unpack("3i", creds)
    if uid != os.getuid():
        sock.close()
        return None
    return sock


def receive(sock, size):
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError
        data.extend(chunk)
    return bytes(data)


def frames(sock):
    while True:
        header = receive(sock, 5)
        kind, size = header[:1], struct.unpack(">i", header[1:])[0]
        yield kind, receive(sock, size)


def send(sock, request):
    import json  # only when there is a process to talk to

    body = json.dumps(request).encode("utf-8")
    sock.sendall(struct.pack(">i", len(body)) + body)


class Output:
    """A file descriptor written whole; a reader that went away is ignored (as the JVM does)."""

    def __init__(self, fd):
        self.fd = fd
        self.gone = False

    def write(self, data):
        view = memoryview(data)
        while view and not self.gone:
            try:
                view = view[os.write(self.fd, view):]
            except OSError:
                self.gone = True


def run(path, args):
    reason = direct_reason(args)
    if reason is not None:
        return RUN_DIRECT
    private = private_directory(os.path.dirname(path))
    if private is None:
        return START_RESIDENT
    if not private:
        return RUN_DIRECT  # not a directory only this user may enter: never trust its socket
    sock = connect(path)
    if sock is None:
        return START_RESIDENT
    stdout, stderr = Output(1), Output(2)
    accepted = False
    try:
        send(sock, {"args": args, "cwd": os.getcwd(), "stderr_terminal": stderr_is_terminal()})
        for kind, payload in frames(sock):
            if kind == b"A":
                accepted = True
                sock.settimeout(None)
            elif kind == b"D":
                return START_RESIDENT if payload.startswith(b"restart") else RUN_DIRECT
            elif kind == b"O":
                stdout.write(payload)
            elif kind == b"E":
                stderr.write(payload)
            elif kind == b"X":
                return struct.unpack(">i", payload)[0] & 0xFF
    except (EOFError, OSError):
        if not accepted:
            return START_RESIDENT  # it died or hung before taking the command
        stderr.write(
            b"error: the resident CLI process ended before the command finished; it may or may"
            b" not have taken effect (KEYROTOR_RESIDENT=off runs commands without it)\n")
        return 1
    finally:
        sock.close()
    return 1


def control(path, args):
    if args not in (["status"], ["stop"]):
        sys.stderr.write("usage: keyrotor resident status | stop\n")
        return 2
    sock = connect(path) if private_directory(os.path.dirname(path)) else None
    if sock is None:
        sys.stdout.write("no resident CLI process is running (socket %s)\n" % path)
        return 1 if args == ["status"] else 0
    status = 1
    try:
        send(sock, {"control": args[0]})
        sock.settimeout(None)
        for kind, payload in frames(sock):
            if kind == b"O":
                Output(1).write(payload)
            elif kind == b"X":
                status = struct.unpack(">i", payload)[0]
                if args == ["status"]:
                    break
    except (EOFError, OSError):
        pass  # stop: the process closes the connection once it has let go of its socket
    finally:
        sock.close()
    return status


def main():
    path, args = sys.argv[1], sys.argv[2:]
    try:
        if args[:1] == ["resident"]:
            return control(path, args[1:])
        return run(path, args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
