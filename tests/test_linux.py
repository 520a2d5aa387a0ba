"""hvlab's bundled Linux (guests/linux): Linux 6.1 + musl + BusyBox booted to power-off and to an
interactive shell, side by side, beside rogue, with an extra initrd; virtual time stays
reproducible under the idle pacing.  The expected answers come from outside hvlab: the count of
primes is computed here by a sieve, the rest is what Linux and BusyBox print."""
import importlib.util
import re
import time
from pathlib import Path

import pytest

import hypervisor.scheduler as scheduler
from hypervisor.catalog import IMAGES_DIR, bundled
from hypervisor.cli import main
from hypervisor.engine import Engine

GUESTS = Path(__file__).resolve().parent.parent / "guests"
pytestmark = pytest.mark.skipif(bundled("linux") is None or
                                not (IMAGES_DIR / bundled("linux")["file"]).exists(),
                                reason="the Linux image is not installed (make -C guests linux)")
PROMPT = "hvlab:~# "


def _mkrootfs():
    spec = importlib.util.spec_from_file_location("mkrootfs", GUESTS / "linux" / "mkrootfs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def primes_up_to(n):
    sieve = bytearray([1]) * (n + 1)
    sieve[:2] = b"\0\0"
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytes(len(sieve[i * i::i]))
    found = [i for i in range(n + 1) if sieve[i]]
    return len(found), found[-1]


def wait_for(vm, pattern, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if re.search(pattern, vm.console.text()):
            return True
        if vm.done:
            return bool(re.search(pattern, vm.console.text()))
        time.sleep(0.02)
    return False


def boot_batch(engine, count=1, append="", **kw):
    vms = [engine.create("linux-batch", bootargs=append, mem=64 << 20, **kw)
           for _ in range(count)]
    for vm in vms:
        engine.start(vm)
    assert engine.wait(120), [vm.console.text()[-500:] for vm in vms]
    return vms


def test_batch_boots_to_power_off_with_the_answer():
    engine = Engine(256 << 20)
    try:
        vm, = boot_batch(engine)
    finally:
        engine.shutdown()
    text = vm.console.text()
    count, largest = primes_up_to(20000)
    assert f"primes up to 20000: {count} (largest {largest})" in text, text
    assert "[run] exit status 0" in text
    assert re.search(r"hvlab Linux 6\.1\.\d+ \(riscv32\): booted to user space in", text)
    assert vm.outcome == "passed", vm.reason
    assert vm.exit_code == 0 and "system_reset" in vm.reason
    s = vm.stats()
    assert s["exits"]["sfence"] > 0 and s["exits"]["sbi"] > 0 and s["exits"]["mmio"] > 0


def test_three_vms_side_by_side_give_the_same_output_and_counts():
    """Virtual time: the same kernel, command line and input give the same instructions,
    exits and console bytes in every VM, also when three run at once on two cores."""
    engine = Engine(256 << 20, threads=2)
    try:
        vms = boot_batch(engine, 3, append='run="forkwait 4; hello"')
    finally:
        engine.shutdown()
    texts = {vm.console.text() for vm in vms}
    assert len(texts) == 1, texts
    text = texts.pop()
    for i in range(1, 5):
        assert f"reaped child {i}: exit status {i}" in text
    assert "forkwait: 4 of 4 children reaped with the right status" in text
    assert re.search(r"hello from Linux 6\.1\.\d+ \(#1 Wed Jan  1 00:00:00 UTC 2025\) on "
                     r"riscv32, host hvlab", text), text
    counts = {(s["instructions"], tuple(sorted(s["exits"].items())))
              for s in (vm.stats() for vm in vms)}
    assert len(counts) == 1, counts
    assert all(vm.outcome == "passed" for vm in vms)


def test_idle_pacing_does_not_change_what_the_guest_sees(monkeypatch):
    """A guest that sleeps past the idle lead waits in host time (scheduler.IDLE_LEAD_SECONDS)
    instead of skipping at once; its instructions, exits and output are the same as without
    the pacing."""
    held = []
    skip_due = scheduler.Scheduler._skip_due

    def spy(self, vm, now):
        due = skip_due(self, vm, now)
        held.append(due)
        return due
    monkeypatch.setattr(scheduler.Scheduler, "_skip_due", spy)

    def run(lead):
        monkeypatch.setattr(scheduler, "IDLE_LEAD_SECONDS", lead)
        held.clear()
        engine = Engine(128 << 20)
        try:
            vm, = boot_batch(engine, append='run="sleep 2; cat /proc/uptime"')
        finally:
            engine.shutdown()
        return vm.console.text(), vm.stats(), any(held)
    paced_text, paced, was_held = run(0.2)
    assert was_held                 # the VM did wait for the host clock at least once
    free_text, free, was_held = run(1e6)
    assert not was_held
    assert paced_text == free_text
    assert paced["instructions"] == free["instructions"]
    assert paced["exits"] == free["exits"]
    assert "[run] exit status 0" in paced_text


def test_linux_beside_rogue_both_end_as_they_should():
    engine = Engine(256 << 20)
    try:
        linux = engine.create("linux-batch", mem=64 << 20, bootargs='run="hello"')
        rogue = engine.create("rogue", mem=16 << 20)
        engine.start(linux)
        engine.start(rogue)
        assert engine.wait(120)
    finally:
        engine.shutdown()
    assert linux.outcome == "passed", linux.console.text()[-1000:]
    assert "hello from Linux" in linux.console.text()
    assert rogue.outcome == "passed", rogue.console.text()[-1000:]
    assert not re.search(r"NOT CONTAINED|WRONG", rogue.console.text())


def test_interactive_shell_through_console_input():
    engine = Engine(256 << 20)
    try:
        vm = engine.create("linux", mem=64 << 20)
        engine.start(vm)
        assert wait_for(vm, re.escape(PROMPT)), vm.console.text()[-1000:]
        vm.console.clear()
        engine.send_input(vm, b"uname -m; ps\n")
        assert wait_for(vm, r"ps\r?\n(.|\n)*" + re.escape(PROMPT))
        text = vm.console.text()
        assert re.search(r"^riscv32\r?$", text, re.M), text
        assert re.search(r"^\s+1 root .* init\r?$", text, re.M), text
        assert re.search(r"^\s+\d+ root .* (/bin/)?sh -l\r?$", text, re.M), text
        vm.console.clear()
        # a background job: started, listed by jobs, reaped when it ends
        engine.send_input(vm, b"sleep 1 & jobs; wait; echo reaped-$?\n")
        assert wait_for(vm, r"reaped-0"), vm.console.text()
        assert re.search(r"\[1\]\+\s+Running\s+sleep 1", vm.console.text())
        assert wait_for(vm, r"\[1\]\+\s+Done\s+sleep 1"), vm.console.text()
        engine.send_input(vm, b"poweroff\n")
        assert engine.wait(30)
    finally:
        engine.shutdown()
    assert vm.outcome == "passed", vm.reason
    assert vm.exit_code == 0


def test_hv_run_batch_with_a_command_line(capsys):
    status = main(["run", "linux-batch", "--append", 'run="uname -m; primes 100"'])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert re.search(r"^riscv32\r?$", out, re.M), out
    count, largest = primes_up_to(100)
    assert f"primes up to 100: {count} (largest {largest})" in out
    assert "primes up to 20000" not in out      # the later run= replaced the image's own


def test_initrd_is_unpacked_over_the_built_in_initramfs(tmp_path, capsys):
    mk = _mkrootfs()
    stat = __import__("stat")
    extra = [mk.Entry("etc", stat.S_IFDIR | 0o755),
             mk.Entry("etc/motd", stat.S_IFREG | 0o644, b"from the external initrd\n"),
             mk.Entry("opt", stat.S_IFDIR | 0o755),
             mk.Entry("opt/suite.sh", stat.S_IFREG | 0o755,
                      b"#!/bin/sh\necho suite ran as pid $$ with $(ls /usr/bin/primes)\n")]
    initrd = tmp_path / "extra.cpio"
    initrd.write_bytes(mk.cpio(extra, 0, with_console=False))
    status = main(["run", "linux-batch", "--initrd", str(initrd),
                   "--append", 'run="cat /etc/motd /etc/hostname; /opt/suite.sh"'])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "from the external initrd" in out
    assert re.search(r"^hvlab\r?$", out, re.M)          # the built-in /etc is still there
    assert re.search(r"suite ran as pid \d+ with /usr/bin/primes", out)


def test_initrd_errors_are_one_line(tmp_path, capsys):
    assert main(["run", "linux-batch", "--initrd", str(tmp_path / "none.cpio")]) == 2
    (tmp_path / "big").write_bytes(bytes(6 << 20))
    assert main(["run", "linux-batch", "--mem", "8M", "--initrd", str(tmp_path / "big")]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert "cannot read" in lines[0] and "does not fit in RAM" in lines[1], err


def test_hv_images_lists_linux_and_the_userland_is_not_bootable(capsys):
    assert main(["images"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^linux\s+64M\s+Linux 6\.1", out, re.M), out
    assert re.search(r"^linux-batch\s", out, re.M), out
    assert main(["run", "userland"]) == 2
    assert "root file system" in capsys.readouterr().err


def test_an_oci_vm_image_boots_with_its_layers_as_the_initrd(tmp_path):
    """linux-vm:6.1 (hypervisor/images/seed.py: userland.tar's layer plus the kernel at
    /boot/Image) gives a kernel, an initramfs made of its layers and a command line
    (vmimage.boot_parts): the kernel file loads as an Image and the layers arrive as --initrd."""
    from hypervisor.images.image import load
    from hypervisor.images.store import Store
    from hypervisor.images.vmimage import boot_parts
    kernel, initramfs, append = boot_parts(load(Store(tmp_path / "store"), "linux-vm:6.1"))
    engine = Engine(256 << 20)
    try:
        vm = engine.create(kernel, mem=64 << 20, initrd=initramfs,
                           bootargs=append + ' run="cat /etc/os-release; uname -m"')
        engine.start(vm)
        assert engine.wait(120)
    finally:
        engine.shutdown()
    text = vm.console.text()
    assert vm.outcome == "passed", text[-1000:]
    assert 'PRETTY_NAME="hvlab Linux' in text and re.search(r"^riscv32\r?$", text, re.M)


def test_hv_run_linux_scripted_with_input_after(capsys):
    """A lab's script drives the shell with `hv run linux --input-after PATTERN TEXT`: each
    line is typed only once the console has printed its pattern (typed too early, input could
    be lost when the 8250 driver flushes its FIFO on open), and poweroff ends the run."""
    status = main(["run", "linux", "--timeout", "120",
                   "--input-after", PROMPT, "uname -m; echo marker-$((6 * 7))\n",
                   "--input-after", "marker-42", "poweroff\n"])
    out, err = capsys.readouterr()
    assert status == 0, err + out[-2000:]
    assert re.search(r"^riscv32\r?$", out, re.M), out[-2000:]
    assert re.search(r"^marker-42\r?$", out, re.M), out[-2000:]
