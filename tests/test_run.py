"""`hv run` end to end: console paths, shutdown reasons, exit statuses, limits, CLI errors."""
import pytest

from hypervisor.cli import main
from guestbuild import SHUTDOWN, write

PRINT_THREE_WAYS = """
    li a7, 1                # SBI legacy console_putchar
    li a0, 'H'
    ecall
    li a0, 'i'
    ecall
    la a1, msg              # SBI DBCN console_write(6, msg, 0)
    li a0, 6
    li a2, 0
    li a6, 0
    li a7, 0x4442434E
    ecall
    li t0, 0x10000000       # the UART's THR
    li t1, 'U'
    sb t1, 0(t0)
    li t1, 10
    sb t1, 0(t0)
"""
DATA = """
    .section .rodata
msg: .ascii " dbcn\\n"
"""


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("ending, status, message", [
    # SBI SRST system_reset(shutdown, no reason)
    ("li a1, 0\n" + SHUTDOWN, 0, ""),
    # SBI SRST system_reset(shutdown, system failure)
    ("li a1, 1\n" + SHUTDOWN, 1, "failed (code 1), by SBI system_reset"),
    # sifive-test finisher: 0x5555 = pass
    ("li t0, 0x100000\nli t1, 0x5555\nsw t1, 0(t0)\n", 0, ""),
    # sifive-test finisher: 0x3333 | 7 << 16 = fail with code 7
    ("li t0, 0x100000\nli t1, 0x73333\nsw t1, 0(t0)\n", 1, "failed (code 7), by test finisher"),
    # SBI legacy shutdown (EID 8)
    ("li a7, 8\necall\n", 0, ""),
])
def test_console_paths_and_shutdown_reasons(tmp_path, capsys, ending, status, message):
    elf = write(tmp_path, PRINT_THREE_WAYS + ending + "1: j 1b\n" + DATA)
    got, out, err = run(capsys, "run", elf)
    assert out == "Hi dbcn\nU\n"
    assert got == status
    assert message in err
    if status:
        assert "hv: guest: " in err and err.count("\n") == 1  # one line: which VM and why


def test_several_vms_get_prefixed_lines(tmp_path, capsys):
    elf = write(tmp_path, PRINT_THREE_WAYS + "li a1, 0\n" + SHUTDOWN + DATA)
    got, out, err = run(capsys, "run", elf, "-n", "2", "--stats")
    assert got == 0
    lines = sorted(out.splitlines())
    assert lines == ["[guest-2] Hi dbcn", "[guest-2] U", "[guest] Hi dbcn", "[guest] U"]
    assert "sbi 4" in err and "mmio 2" in err                  # the --stats table


def test_unhandled_trap_names_vm_pc_and_cause(tmp_path, capsys):
    # no stvec: a load from a hole (0x0) is a load access fault nobody handles
    elf = write(tmp_path, "nop\nlw t0, 0(zero)\n")
    got, out, err = run(capsys, "run", elf)
    assert got == 1
    assert "crashed: unhandled trap: load access fault" in err
    assert "pc 0x80400004" in err and "stval 0x00000000" in err


def test_timeout_and_max_insns_give_124(tmp_path, capsys):
    elf = write(tmp_path, "1: j 1b\n")
    assert run(capsys, "run", elf, "--timeout", "0.3")[0] == 124
    got, out, err = run(capsys, "run", elf, "--max-insns", "5000", "--stats")
    assert got == 124
    assert "5,000" in err                                      # exactly the budget ran


def test_trace_writes_a_trap_log(tmp_path, capsys):
    # a breakpoint the guest handles itself (la = auipc + addi, csrw: ebreak is the 4th word)
    elf = write(tmp_path, """
    la t0, handler
    csrw stvec, t0
    ebreak
    li a1, 0
""" + SHUTDOWN + """
handler:
    csrr t1, sepc
    addi t1, t1, 4
    csrw sepc, t1
    sret
""")
    got, out, err = run(capsys, "run", elf, "--trace", tmp_path / "tr")
    assert got == 0
    log = (tmp_path / "tr" / "guest.trace").read_text()
    assert "pc=0x8040000c cause=0x3 (breakpoint) tval=0x8040000c" in log
    assert "srst" in log


@pytest.mark.parametrize("argv, text", [
    (["run", "--bogus", "x"], "unrecognized arguments"),
    (["run", "hello", "--mem", "12Q"], "bad size"),
    (["run", "/no/such/file.elf"], "no such file"),
    (["run", "hello", "--timeout", "-1"], "--timeout must be a positive"),
    (["run", "hello", "--weights", "1,2"], "2 values for 1 VMs"),
    (["run"], "required"),
    (["frobnicate"], "invalid choice"),
])
def test_cli_errors_exit_2_with_usage(capsys, argv, text):
    try:
        got = main(argv)
    except SystemExit as exc:       # argparse's own errors
        got = exc.code
    out, err = capsys.readouterr()
    assert got == 2
    assert text in err
    assert "Traceback" not in err
