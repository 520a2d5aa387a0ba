"""`hv container ...` and `hv network ...`: Docker's verbs for containers on the shared kernel.

    hv container run [--name N] [-e K=V] [-w DIR] [--hostname H] [--memory 16m] [--cpus 0.5]
                     [--cpu-shares W] [--pids-limit N] [--network NET] [-p 127.0.0.1:HP:P]
                     [--rm] [-i] [-t] [-d] IMAGE [CMD ...]
    hv container ls [-a] | start [-a] [-i] C | stop [-t S] C | kill [-s SIG] C | rm [-f] C
    hv container logs [-f] C | exec [-i] [-t] C CMD ... | stats | commit C IMAGE:TAG
    hv network create NAME | ls | rm NAME

They are clients of the daemon (daemon.py), started on demand.  Exit statuses as docker's:
the container's (or the exec'd command's) status, 125 when the runtime fails, 126 when the
command cannot be run, 127 when it is not found.
"""
import argparse
import os
import sys
import threading
import time

from ..errors import UsageError

SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15,
           "CONT": 18, "STOP": 19}


def register(sub):
    p = sub.add_parser("container", help="run and manage containers on hvlab's shared kernel",
                       description=__doc__.split("\n\n")[0])
    verbs = p.add_subparsers(dest="verb", metavar="VERB", parser_class=type(p))
    r = verbs.add_parser("run", help="create and start a container")
    r.add_argument("--name")
    r.add_argument("-e", "--env", action="append", default=[], metavar="K=V")
    r.add_argument("-w", "--workdir")
    r.add_argument("--hostname")
    r.add_argument("-m", "--memory", default="64m", help="memory limit (default 64m)")
    r.add_argument("--cpus", type=float, help="CPU cap, a fraction of one core")
    r.add_argument("--cpu-shares", type=int, default=1024, help="CPU weight (default 1024)")
    r.add_argument("--pids-limit", type=int, help="most processes at once")
    r.add_argument("--network")
    r.add_argument("-p", "--publish", action="append", default=[],
                   metavar="127.0.0.1:HOSTPORT:PORT")
    r.add_argument("--rm", action="store_true", help="remove the container when it exits")
    r.add_argument("-i", "--interactive", action="store_true", help="keep stdin open")
    r.add_argument("-t", "--tty", action="store_true", help="give it a terminal")
    r.add_argument("-d", "--detach", action="store_true", help="run in the background")
    r.add_argument("--kernel-bug-after", type=int, metavar="N",
                   help="lab switch: the shared kernel fails after N more system calls, "
                        "taking every container down (VMs run on)")
    r.add_argument("image", metavar="IMAGE")
    # everything after IMAGE is the container's command, options included (`httpd -f -p 80`),
    # as with docker run
    r.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD")
    r.set_defaults(func=cmd_run)
    ls = verbs.add_parser("ls", aliases=["ps"], help="list containers")
    ls.add_argument("-a", "--all", action="store_true")
    ls.add_argument("-q", "--quiet", action="store_true")
    ls.set_defaults(func=cmd_ls)
    s = verbs.add_parser("start", help="start a stopped container")
    s.add_argument("-a", "--attach", action="store_true")
    s.add_argument("-i", "--interactive", action="store_true")
    s.add_argument("ref", metavar="CONTAINER")
    s.set_defaults(func=cmd_start)
    st = verbs.add_parser("stop", help="SIGTERM, then SIGKILL after a grace period")
    st.add_argument("-t", "--time", type=float, default=10)
    st.add_argument("refs", nargs="+", metavar="CONTAINER")
    st.set_defaults(func=lambda a: _each(a, "stop", time=a.time))
    k = verbs.add_parser("kill", help="send a signal to the container's pid 1")
    k.add_argument("-s", "--signal", default="KILL")
    k.add_argument("refs", nargs="+", metavar="CONTAINER")
    k.set_defaults(func=cmd_kill)
    rm = verbs.add_parser("rm", help="remove containers")
    rm.add_argument("-f", "--force", action="store_true")
    rm.add_argument("refs", nargs="+", metavar="CONTAINER")
    rm.set_defaults(func=lambda a: _each(a, "rm", force=a.force))
    lg = verbs.add_parser("logs", help="what a container wrote")
    lg.add_argument("-f", "--follow", action="store_true")
    lg.add_argument("ref", metavar="CONTAINER")
    lg.set_defaults(func=cmd_logs)
    ex = verbs.add_parser("exec", help="run a command in a running container")
    ex.add_argument("-i", "--interactive", action="store_true")
    ex.add_argument("-t", "--tty", action="store_true")
    ex.add_argument("-e", "--env", action="append", default=[])
    ex.add_argument("-w", "--workdir")
    ex.add_argument("ref", metavar="CONTAINER")
    ex.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD")
    ex.set_defaults(func=cmd_exec)
    sa = verbs.add_parser("stats", help="a docker-stats-like table of running containers")
    sa.add_argument("--no-stream", action="store_true",
                    help="accepted as docker stats has it: the table is always one snapshot "
                         "(hv top shows them live)")
    sa.set_defaults(func=cmd_stats)
    cm = verbs.add_parser("commit", help="a container's writable layer as a new image")
    cm.add_argument("ref", metavar="CONTAINER")
    cm.add_argument("image", metavar="IMAGE:TAG")
    cm.set_defaults(func=cmd_commit)
    p.set_defaults(func=lambda a: (p.print_help(sys.stderr), 2)[1])

    n = sub.add_parser("network", help="user-defined bridge networks for containers")
    nv = n.add_subparsers(dest="verb", metavar="VERB", parser_class=type(n))
    nc = nv.add_parser("create")
    nc.add_argument("name")
    nc.set_defaults(func=lambda a: _net(a, "create"))
    nl = nv.add_parser("ls")
    nl.set_defaults(func=lambda a: _net(a, "ls"))
    nr = nv.add_parser("rm")
    nr.add_argument("name")
    nr.set_defaults(func=lambda a: _net(a, "rm"))
    n.set_defaults(func=lambda a: (n.print_help(sys.stderr), 2)[1])


# ---------------------------------------------------------------- talking to the daemon
def _channel():
    from .daemon import SLOW_MESSAGE, Channel, client_lock, ensure, socket_path
    hold = None
    try:
        hold = client_lock(socket_path())   # the daemon cannot exit idle until our answer
        started = []
        sock = ensure(started=started)
        slow = (lambda: print(SLOW_MESSAGE, file=sys.stderr, flush=True)) if started else None
        return Channel(sock, hold, slow)
    except OSError as exc:
        if hold is not None:
            hold.close()
        print(f"hv: {exc}", file=sys.stderr)
        raise SystemExit(125)


def _request(op, **kw):
    ch = _channel()
    ch.send(op=op, **kw)
    msg = ch.recv()
    if msg is None:
        print("hv: the daemon closed the connection", file=sys.stderr)
        raise SystemExit(125)
    if "error" in msg:
        print(f"hv: Error response from daemon: {msg['error']}", file=sys.stderr)
        raise SystemExit(msg.get("status", 1))
    return ch, msg["ok"]


def _stream(ch, stdin=False, tty=False):
    """Copy the daemon's output to ours (and our stdin to it) until it sends the status."""
    if stdin:
        def pump():
            fd = sys.stdin.fileno()
            while True:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    data = b""
                try:
                    ch.send(**({"stdin": data.decode("latin-1")} if data else {"eof": True}))
                except OSError:
                    return
                if not data:
                    return
        threading.Thread(target=pump, daemon=True).start()
    restore = _raw_terminal() if tty and stdin else None
    if restore:
        restore = _follow_window_size(ch, restore)
    try:
        while True:
            msg = ch.recv()
            if msg is None:
                return 125
            if "out" in msg:
                sys.stdout.buffer.write(msg["out"].encode("latin-1"))
                sys.stdout.buffer.flush()
            elif "notice" in msg:
                print(f"hv: {msg['notice']}", file=sys.stderr)
            elif "exit" in msg:
                return int(msg["exit"] or 0)
            elif "error" in msg:
                print(f"hv: {msg['error']}", file=sys.stderr)
                return msg.get("status", 125)
    finally:
        if restore:
            restore()


def _follow_window_size(ch, restore):
    """Send our terminal's size now and at each SIGWINCH, as `docker run -it` does, so a
    full-screen program in the container lays out to this window.  Returns ``restore``
    extended with putting the old SIGWINCH handler back."""
    import signal

    def send(*_):
        try:
            cols, rows = os.get_terminal_size(sys.stdin.fileno())
            ch.send(winsize=[rows, cols])
        except OSError:
            pass
    old = signal.signal(signal.SIGWINCH, send)
    send()

    def undo():
        signal.signal(signal.SIGWINCH, old)
        restore()
    return undo


def _raw_terminal():
    if not sys.stdin.isatty():
        return None
    import termios
    import tty as ttymod
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    ttymod.setraw(fd)
    return lambda: termios.tcsetattr(fd, termios.TCSADRAIN, old)


# ---------------------------------------------------------------- the verbs
def cmd_run(args):
    from ..memory import parse_size
    try:
        memory = parse_size(args.memory)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    image = os.path.abspath(args.image) if os.path.exists(args.image) else args.image
    spec = dict(image=image, cmd=args.cmd, name=args.name, env=args.env, workdir=args.workdir,
                hostname=args.hostname, memory=memory, cpus=args.cpus,
                cpu_shares=args.cpu_shares, pids_limit=args.pids_limit, network=args.network,
                publish=args.publish, rm=args.rm, interactive=args.interactive, tty=args.tty,
                detach=args.detach, kernel_bug_after=args.kernel_bug_after)
    ch, cid = _request("run", spec=spec)
    if args.detach:
        print(cid)
        return 0
    return _stream(ch, stdin=args.interactive, tty=args.tty)


def cmd_start(args):
    ch, ok = _request("start", ref=args.ref, attach=args.attach, interactive=args.interactive)
    if not args.attach:
        print(ok)
        return 0
    return _stream(ch, stdin=args.interactive)


def _each(args, op, **kw):
    status = 0
    for ref in args.refs:
        try:
            _, ok = _request(op, ref=ref, **kw)
            print(ok)
        except SystemExit as exc:
            status = exc.code or 1
    return status


def cmd_kill(args):
    s = args.signal.upper().removeprefix("SIG")
    signo = int(s) if s.isdigit() else SIGNALS.get(s)
    if signo is None:
        raise UsageError(f"invalid signal {args.signal!r}")
    return _each(args, "kill", signal=signo)


def cmd_logs(args):
    ch, _ = _request("logs", ref=args.ref, follow=args.follow)
    return _stream(ch)


def cmd_exec(args):
    if not args.cmd:
        raise UsageError("exec needs a command to run (hv container exec CONTAINER CMD ...)")
    ch, _ = _request("exec", ref=args.ref, argv=args.cmd, interactive=args.interactive,
                     tty=args.tty, env=args.env, workdir=args.workdir)
    return _stream(ch, stdin=args.interactive, tty=args.tty)


def _ago(t):
    s = max(0, time.time() - t)
    for unit, n in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if s >= n:
            return f"{int(s // n)} {unit} ago"
    return f"{int(s)} seconds ago"


def cmd_ls(args):
    _, rows = _request("ls", all=args.all)
    if args.quiet:
        for r in rows:
            print(r["id"])
        return 0
    table = [("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES")]
    for r in rows:
        if r["state"] == "running":
            status = f"Up {_ago(r.get('started', r['created'])).removesuffix(' ago')}"
        elif r["state"] == "exited":
            status = f"Exited ({r['exit_code']}) {_ago(r.get('finished', r['created']))}"
        else:
            status = "Created"
        cmd = " ".join(r.get("cmd") or [])
        table.append((r["id"], os.path.basename(str(r["image"])) or str(r["image"]),
                      f'"{cmd[:20]}"', _ago(r["created"]), status,
                      ",".join(r.get("publish") or []), r["name"]))
    _print_table(table)
    return 0


def _print_table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("   ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())


def cmd_stats(args):
    _, a = _request("stats")
    time.sleep(0.5)
    _, b = _request("stats")
    before = {s["record"]: s for s in a}
    table = [("CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS",
              "SYSCALLS", "TOP MISSING")]
    for s in b:
        old = before.get(s["record"], s)
        cpu = 100 * (s["host_seconds"] - old["host_seconds"]) / 0.5
        used, limit = s["pages_allocated"] * 4096, s["memory_limit"]
        missing = ",".join(list(s["missing_syscalls"])[:3]) or "-"
        table.append((s["record"], s["name"], f"{cpu:.2f}%",
                      f"{used / 2**20:.1f}MiB / {limit / 2**20:.0f}MiB",
                      f"{100 * used / limit:.2f}%", s["processes"], s["syscalls"], missing))
    _print_table(table)
    return 0


def cmd_commit(args):
    _, digest = _request("commit", ref=args.ref, image=args.image)
    print(digest)
    return 0


def _net(args, verb):
    _, ok = _request("network", verb=verb, name=getattr(args, "name", None))
    if verb == "ls":
        _print_table([("NAME", "SUBNET", "CONTAINERS")] + [tuple(r) for r in ok])
    else:
        print(ok)
    return 0
