#!/usr/bin/env python3
"""Apply a Kconfig fragment to a .config, and check that it survived `olddefconfig`.

    kconfig.py merge .config FRAGMENT [WORD=REPLACEMENT ...]
    kconfig.py check .config FRAGMENT [WORD=REPLACEMENT ...]

merge does what the kernel's scripts/kconfig/merge_config.sh does: it drops the .config's lines
for the fragment's symbols and appends the fragment (a later line wins, also inside a choice).
check fails, naming them, when options of the fragment do not have the asked value in the
final .config: a dependency the fragment missed would otherwise be dropped without a word.
WORD=REPLACEMENT substitutes build paths into values (e.g. the initramfs file).
"""
import re
import sys

SET = re.compile(r"(CONFIG_\w+)=(.*)")
UNSET = re.compile(r"# (CONFIG_\w+) is not set")


def options(lines):
    out = {}
    for line in lines:
        m = SET.fullmatch(line.strip()) or UNSET.fullmatch(line.strip())
        if m:
            out[m.group(1)] = m.group(2) if m.re is SET else "n"
    return out


def fragment(path, subs):
    text = open(path).read()
    for word, replacement in subs:
        text = text.replace(word, replacement)
    return [line for line in text.splitlines() if SET.fullmatch(line) or UNSET.fullmatch(line)]


def main(argv):
    if len(argv) < 3 or argv[0] not in ("merge", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    what, config, frag = argv[:3]
    subs = [a.split("=", 1) for a in argv[3:]]
    wanted = fragment(frag, subs)
    names = set(options(wanted))
    if what == "merge":
        lines = [line for line in open(config).read().splitlines()
                 if not (set(options([line])) & names)]
        with open(config, "w") as f:
            f.write("\n".join(lines + wanted) + "\n")
        return 0
    have = options(open(config).read().splitlines())
    bad = [f"{k}: asked {v}, got {have.get(k, 'n')}" for k, v in options(wanted).items()
           if have.get(k, "n") != v]
    for line in bad:
        print(f"kconfig: {config}: {line}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
