"""The container's terminal size: TIOCGWINSZ answers what the window shows, and a change of
size (hv top's pane, TIOCSWINSZ) sends SIGWINCH to the foreground process group, as Linux's
tty_do_resize does (tty_ioctl(4)); the same size again sends nothing."""
import time

from hypervisor.catalog import rootfs_path

SCRIPT = "trap 'stty size' WINCH; stty size; while :; do read x && echo got $x; done"


def _until(c, text, timeout=30):
    end = time.time() + timeout
    while text not in c.console.text():
        assert time.time() < end and not c.done, repr(c.console.text()[-300:])
        time.sleep(0.02)


def test_a_new_window_size_sends_sigwinch_once():
    from hypervisor.engine import Engine
    from hypervisor.kernel import runtime
    e = Engine(host_mem=96 << 20)
    try:
        c = runtime.create(e, str(rootfs_path("userland")), ["/bin/sh", "-c", SCRIPT],
                           tty=True, memory=16 << 20)
        e.start(c)
        _until(c, "24 80\r\n")                      # the default size, through TIOCGWINSZ
        c.resize_terminal(30, 100)
        _until(c, "30 100\r\n")                     # the trap ran: SIGWINCH came
        c.resize_terminal(30, 100)                  # no change: no signal
        c.send_input(b"one\r")
        _until(c, "got one\r\n")
        c.resize_terminal(12, 40)
        _until(c, "12 40\r\n")
        assert c.console.text().count("30 100") == 1
        assert c.console.text().endswith("got one\r\n12 40\r\n")
    finally:
        e.shutdown()
