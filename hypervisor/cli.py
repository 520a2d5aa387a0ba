"""`hv`: the command line.  Each subcommand lives in its own module and registers itself here.

A module named in COMMANDS provides ``register(subparsers)``, which adds its parser and sets
``func`` (a callable taking the parsed args and returning the exit status).  Errors a user can
cause end in one line on stderr and a non-zero status, never a traceback.
"""
import argparse
import importlib
import sys

from .errors import UsageError

# module path of each group of subcommands
COMMANDS = (
    "hypervisor.commands.run",      # hv run, hv images
    "hypervisor.commands.demo",     # hv demo
    "hypervisor.asm.commands",      # hv asm, hv dis
    "hypervisor.tui.commands",      # hv top
    "hypervisor.images.commands",   # hv image ..., hv push, hv pull (OCI images)
    "hypervisor.kernel.commands",   # hv container, hv network
    "hypervisor.labs.commands",     # hv lab
)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: usage + one line, status 2
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser():
    parser = _Parser(prog="hv", description="hvlab: an educational RISC-V hypervisor")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # that part of hvlab is not built yet
            raise
        module.register(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"hv {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hv: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
