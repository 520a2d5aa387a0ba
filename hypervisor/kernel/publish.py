"""Published ports (`-p 127.0.0.1:HOSTPORT:PORT`): a real socket on the host's loopback whose
connections are joined to a container's listening socket (net.py) by two copying threads."""
import threading

from .net import LOOPBACK, Socket, Stream


def parse_publish(spec):
    """'127.0.0.1:8080:80' or '8080:80' -> ('127.0.0.1', 8080, 80).  Only the host's loopback
    is ever bound: a classroom laptop's containers are not exposed to its network."""
    parts = spec.split(":")
    if len(parts) == 2:
        parts = [LOOPBACK] + parts
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise ValueError(f"bad -p {spec!r}: use 127.0.0.1:HOSTPORT:PORT")
    if not parts[0].startswith("127."):
        raise ValueError(f"-p {spec}: only loopback addresses (127.x) can be published")
    # TCP ports are 16 bits (RFC 793); docker refuses the rest ("invalid hostPort") before
    # bind() would raise OverflowError, and a container port 0 ("invalid containerPort")
    for port in (int(parts[1]), int(parts[2])):
        if not 0 < port <= 65535:
            raise ValueError(f"-p {spec}: port {port} is not in 1-65535")
    return parts[0], int(parts[1]), int(parts[2])


def publish(c, specs):
    """Accept on a real host socket and connect each client to the container's PORT."""
    import socket as hostsock
    stops = []
    for spec in specs:
        host, hport, port = parse_publish(spec)
        srv = hostsock.socket(hostsock.AF_INET, hostsock.SOCK_STREAM)
        srv.setsockopt(hostsock.SOL_SOCKET, hostsock.SO_REUSEADDR, 1)
        srv.bind((host, hport))
        srv.listen(16)
        srv.settimeout(0.2)
        done = threading.Event()
        threading.Thread(target=_accept_loop, args=(c, srv, host, port, done),
                         daemon=True).start()
        stops.append(done.set)
    c.published = stops


def _accept_loop(c, srv, host, port, done):
    import socket as hostsock
    try:
        while not done.is_set() and not c.done:
            try:
                conn, _ = srv.accept()
            except hostsock.timeout:
                continue
            except OSError:
                return
            with c.lock:
                lst = c.netns.listeners.get((LOOPBACK, port)) or \
                    c.netns.listeners.get(("0.0.0.0", port))
                if lst is None or lst.backlog is None:
                    conn.close()
                    continue
                server = Socket(c)
                server.local, server.peer = (LOOPBACK, port), (host, 0)
                a, b = Stream(), Stream()       # a: host -> container, b: container -> host
                server.rx, server.tx = a, b
                lst.backlog.append(server)
                lst.acceptq.wake()
            threading.Thread(target=_pump_in, args=(conn, a, done), daemon=True).start()
            threading.Thread(target=_pump_out, args=(conn, b, done), daemon=True).start()
    finally:
        srv.close()


def _pump_in(conn, stream, done):
    """Host client -> the container's socket."""
    import time
    conn.settimeout(0.2)
    while not done.is_set() and not stream.reader_gone:
        try:
            data = conn.recv(65536)
        except OSError as exc:
            if "timed out" in str(exc):
                continue
            data = b""
        if not data:
            stream.close()
            return
        while data and not stream.reader_gone and not done.is_set():
            n = stream.put(data)
            data = data[n:]
            if data:
                time.sleep(0.005)


def _pump_out(conn, stream, done):
    """The container's socket -> the host client (polled: host threads sleep on no queue)."""
    import time
    quiet_since = None
    try:
        while True:                     # what the container wrote goes out even if it ended
            if stream.buf:
                conn.sendall(stream.take(65536))
                quiet_since = None
            elif stream.closed:
                break
            elif done.is_set():         # the container ended: its sockets are closed soon
                quiet_since = quiet_since or time.time()
                if time.time() - quiet_since > 1.0:
                    break
                time.sleep(0.01)
            else:
                time.sleep(0.002)
    except OSError:
        stream.reader_gone = True
    finally:
        try:
            conn.shutdown(2)
        except OSError:
            pass
        conn.close()
