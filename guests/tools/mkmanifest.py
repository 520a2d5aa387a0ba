#!/usr/bin/env python3
"""Write or check hypervisor/guest_images/manifest.json.

    mkmanifest.py write DIR          write DIR/manifest.json for the images in DIR
    mkmanifest.py check DIR REBUILT  DIR's images and manifest against a fresh
                                     rebuild in REBUILT, byte for byte

The manifest is a JSON object: "images", a list with one entry per bootable image:
    {"name", "file", "description" (one line), "mem" (suggested --mem), "sha256"}
    plus, for Linux (LINUX below), "append": the image's own kernel command line (hv run's
    --append adds to it), and "interactive": true for an image that reads its console
    (INTERACTIVE and LINUX below): hv run gives it the keyboard first and forwards Ctrl-C to
    it (Ctrl-A x quits hvlab);
and "rootfs", the root file systems for containers (not bootable): {"name", "file",
"description", "kind": "rootfs", "sha256"}.
GUESTS, LINUX and ROOTFS below are the single lists of images, descriptions and memory sizes.
"""
import hashlib
import json
import os
import struct
import sys

GUESTS = [
    ("hello", "64M",
     "Banner with hart id, RAM size and bootargs from the device tree; prints through "
     "SBI legacy putchar, SBI DBCN and the UART, then SRST shutdown"),
    ("compute", "16M",
     "Benchmark kernel (sieve, CRC32, matmul, heapsort), self-checked, one progress line "
     "per phase via SBI; SRST reason 0 on success, 1 on a mismatch"),
    ("bench", "16M",
     "compute without SBI or output (~300M instructions): writes 0x5555 to the test "
     "finisher on success; linked at 0x80000000, also boots on qemu -bios none"),
    ("bench-small", "1M",
     "bench at a small size (~5M instructions, image under 64 KiB) for quick tests"),
    ("bench-sv32", "16M",
     "bench under its own identity-mapped Sv32 page tables (4 MiB megapages); needs S-mode"),
    ("bench-full", "16M",
     "bench-sv32 plus a 100 Hz timer interrupt re-armed through SBI: the whole monitor at "
     "work; hvlab only (uses SBI)"),
    ("bench-c", "16M",
     "bench compiled with compressed instructions (-march=rv32imac_zicsr_zifencei), for the "
     "speed of RVC code; linked at 0x80000000"),
    ("timer", "16M",
     "Programs the timer via SBI set_timer and counts 10 ticks at 100 Hz, idling in wfi "
     "between interrupts"),
    ("echo", "16M",
     "Echoes UART input using receive interrupts through the PLIC; stops at 'q'"),
    ("memhog", "64M",
     "Turns on Sv32 paging and touches every page, 1 MiB per step, up to its RAM or "
     "bootargs size=NNM: shows demand allocation"),
    ("rogue", "16M",
     "The attacker: loads, stores, jumps and page-table tricks outside its RAM, privileged "
     "instructions from U-mode; succeeds only if every attempt traps"),
    ("trapstorm", "16M",
     "Takes exits as fast as it can (CSR reads and writes, SBI calls) and prints cycles per "
     "exit"),
    ("panic", "16M",
     "Crashes on purpose: a NULL store with stvec = 0, an unhandled trap that kills its VM"),
    ("spinner", "16M",
     "Endless compute (primes by trial division), a progress line each second of guest time; "
     "never stops by itself: something to pause, step, cap and kill in hv top"),
    ("worker", "16M",
     "Periodic bursts of CRC32 work and sleeps in wfi (500 ms every 2 s); never stops by "
     "itself: shows an idle VM in hv top"),
]

# Linux 6.1 + musl + BusyBox (guests/linux, `make linux`): one kernel file, two command lines.
# (name, file, mem, append, interactive, description)
LINUX = [
    ("linux", "linux.Image", "64M", "earlycon=sbi console=ttyS0 quiet", True,
     "Linux 6.1 with a musl + BusyBox userland: a shell on the console (poweroff to stop; "
     "Ctrl-A x quits hvlab)"),
    ("linux-batch", "linux.Image", "64M", 'console=ttyS0 quiet run="primes 20000"', False,
     "The same Linux running one command from its command line (--append 'run=\"CMD\"'), "
     "then powering off"),
]
ROOTFS = [
    ("userland", "userland.tar",
     "Linux's root file system as a tar (BusyBox, the demo programs, /etc): for containers "
     "and OCI images"),
]
# bare images that read their console: they get stdin first, and Ctrl-C (hv run --ctrl-c)
INTERACTIVE = {"echo"}

BENCH = ("bench", "bench-small", "bench-sv32", "bench-c")   # must contain no ecall
ECALL = 0x00000073


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def manifest(directory):
    entries = []
    for name, mem, desc in GUESTS:
        assert "\n" not in desc
        path = os.path.join(directory, f"{name}.elf")
        entry = {"name": name, "file": f"{name}.elf", "description": desc,
                 "mem": mem, "sha256": sha256(path)}
        if name in INTERACTIVE:
            entry["interactive"] = True
        entries.append(entry)
    for name, file, mem, append, interactive, desc in LINUX:
        entry = {"name": name, "file": file, "description": desc, "mem": mem,
                 "append": append, "sha256": sha256(os.path.join(directory, file))}
        if interactive:
            entry["interactive"] = True
        entries.append(entry)
    rootfs = [{"name": name, "file": file, "description": desc, "kind": "rootfs",
               "sha256": sha256(os.path.join(directory, file))} for name, file, desc in ROOTFS]
    return json.dumps({"images": entries, "rootfs": rootfs}, indent=2) + "\n"


def executable_words(path):
    """32-bit words of every executable PT_LOAD segment of an ELF32 file."""
    with open(path, "rb") as f:
        blob = f.read()
    phoff, = struct.unpack_from("<I", blob, 0x1C)
    phentsize, phnum = struct.unpack_from("<HH", blob, 0x2A)
    for i in range(phnum):
        p_type, off, _va, _pa, filesz, _memsz, flags, _align = struct.unpack_from(
            "<8I", blob, phoff + i * phentsize)
        if p_type == 1 and flags & 1:
            yield from struct.unpack_from(f"<{filesz // 4}I", blob, off)


def check(directory, rebuilt):
    errors = []
    with open(os.path.join(directory, "manifest.json")) as f:
        data = json.load(f)
    committed = data["images"] + data["rootfs"]
    names = {e["name"] for e in committed}
    wanted = {g[0] for g in GUESTS} | {g[0] for g in LINUX} | {g[0] for g in ROOTFS}
    if names != wanted:
        errors.append(f"manifest lists {sorted(names)}, expected {sorted(wanted)}")
    for e in committed:
        here = os.path.join(directory, e["file"])
        there = os.path.join(rebuilt, e["file"])
        if not os.path.exists(here):
            errors.append(f"{e['file']}: missing from {directory}")
            continue
        if sha256(here) != e["sha256"]:
            errors.append(f"{e['file']}: sha256 differs from the manifest")
        if not os.path.exists(there):
            errors.append(f"{e['file']}: not rebuilt")
        elif open(here, "rb").read() != open(there, "rb").read():
            errors.append(f"{e['file']}: rebuild is not byte-identical")
        if e["name"] in BENCH and ECALL in executable_words(here):
            errors.append(f"{e['file']}: contains an ecall (bench images must not use SBI)")
    with open(os.path.join(directory, "manifest.json"), "rb") as a, \
            open(os.path.join(rebuilt, "manifest.json"), "rb") as b:
        if a.read() != b.read():
            errors.append("manifest.json: rebuild differs")
    for line in errors:
        print("check:", line, file=sys.stderr)
    return 1 if errors else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "write":
        text = manifest(argv[2])
        with open(os.path.join(argv[2], "manifest.json"), "w") as f:
            f.write(text)
        return 0
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
