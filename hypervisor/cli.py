"""`hv`: the command line.  Each subcommand lives in its own module and registers itself here.

A module named in COMMANDS provides ``register(subparsers)``, which adds its parser and sets
``func`` (a callable taking the parsed args and returning the exit status).  Errors a user can
cause end in one line on stderr and a non-zero status, never a traceback.
"""
import argparse
import importlib
import logging
import os
import sys

from .commands import output
from .errors import UsageError

# module path of each group of subcommands
COMMANDS = (
    "hypervisor.commands.run",      # hv run, hv images
    "hypervisor.commands.demo",     # hv demo
    "hypervisor.asm.commands",      # hv asm, hv dis
    "hypervisor.tui.commands",      # hv top
    "hypervisor.images.commands",   # hv image ..., hv push, hv pull (OCI images)
    "hypervisor.kernel.commands",   # hv container, hv network
)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: usage + one line, status 2
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)

    def _print_message(self, message, file=None):
        if message:                 # argparse would swallow a failed write (`--help >&-`)
            output.write(file or sys.stderr, message)


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


def _debug_log(args):
    """--debug or HVLAB_DEBUG=1: internal errors (a VM crashed by a bug in hvlab) are logged
    with their tracebacks on stderr.  Otherwise only their one-line reason is shown."""
    if not (getattr(args, "debug", False) or os.environ.get("HVLAB_DEBUG")):
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("hv: %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("hvlab")
    handler.previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler


def main(argv=None):
    output.reset()
    closed_stdout = sys.stdout is None          # hv ... >&-: Python left it None
    if closed_stdout:
        sys.stdout = output.ClosedStream()
    try:
        return _main(argv)
    except output.OutputError as exc:           # stdout or stderr failed: 141 or 1
        return output.finish(exc)
    except OSError as exc:                      # a command writing with print()...
        error = output.write_error(exc)
        if error is None:                       # ...or not: that is a bug to see
            raise
        return output.finish(error)
    finally:
        if closed_stdout:
            sys.stdout = None


def _main(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    handler = _debug_log(args)
    try:
        status = int(args.func(args) or 0)
        output.write(sys.stdout, "")            # flush: a write error must not pass unseen
        return status
    except UsageError as exc:
        print(f"hv {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hv: interrupted", file=sys.stderr)
        return 130
    finally:
        if handler is not None:
            logging.getLogger("hvlab").removeHandler(handler)
            logging.getLogger("hvlab").setLevel(handler.previous_level)


if __name__ == "__main__":
    sys.exit(main())
