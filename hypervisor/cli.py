"""`hv`: the command line.  Each subcommand lives in its own module and registers itself here.

A module named in COMMANDS provides ``register(subparsers)``, which adds its parser and sets
``func`` (a callable taking the parsed args and returning the exit status).  Errors a user can
cause end in one line on stderr and a non-zero status, never a traceback.

Start-up time matters (`hv run hello` is a student's first command): only the module of the
command being run is imported (PROVIDES says which one that is; `hv --help`, an unknown command
or a module not listed there import them all), and each module imports its heavy libraries
(numba, textual, the assembler) inside the command that needs them.
"""
import argparse
import atexit
import importlib
import logging
import os
import sys
import threading

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
    "hypervisor.labs.commands",     # hv lab
)

# command -> the module in COMMANDS that registers it: a hint to import only that one
PROVIDES = {
    "run": "hypervisor.commands.run", "images": "hypervisor.commands.run",
    "demo": "hypervisor.commands.demo",
    "asm": "hypervisor.asm.commands", "dis": "hypervisor.asm.commands",
    "top": "hypervisor.tui.commands",
    "image": "hypervisor.images.commands", "push": "hypervisor.images.commands",
    "pull": "hypervisor.images.commands",
    "container": "hypervisor.kernel.commands", "network": "hypervisor.kernel.commands",
    "lab": "hypervisor.labs.commands",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: usage + one line, status 2
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)

    def _print_message(self, message, file=None):
        if message:                 # argparse would swallow a failed write (`--help >&-`)
            output.write(file or sys.stderr, message)


def version():
    """hvlab's version from the installed package's metadata (pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version as dist_version
    try:
        return dist_version("hvlab")
    except PackageNotFoundError:           # run from a source tree that was never installed
        from . import __version__
        return f"{__version__} (not installed)"


def _wanted(argv):
    """The command named on the command line (its first word that is not an option)."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word
    return None


def build_parser(argv=None):
    parser = _Parser(prog="hv", description="hvlab: an educational RISC-V hypervisor",
                     epilog="`hv COMMAND --help` describes each command.")
    parser.add_argument("--version", action="version", version=f"hv (hvlab) {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parser.commands = sub.choices       # name -> that command's parser
    hint = PROVIDES.get(_wanted(argv)) if argv is not None else None
    for name in ((hint,) if hint else COMMANDS):
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
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:               # without importing any command
        print(f"hv (hvlab) {version()}")
        return 0
    parser = build_parser(argv)
    args, extra = parser.parse_known_args(argv)
    if not getattr(args, "func", None):
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        parser.print_help(sys.stderr)
        return 2
    if extra:                           # the command's own usage, not hv's
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    handler = _debug_log(args)
    try:
        status = int(args.func(args) or 0)
        output.write(sys.stdout, "")            # flush: a write error must not pass unseen
        return status
    except UsageError as exc:            # "error" once, even when the message has its own
        text = str(exc)
        print(f"hv {args.command}: {'' if 'error:' in text else 'error: '}{text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hv: interrupted", file=sys.stderr)
        return 130
    finally:
        if handler is not None:
            logging.getLogger("hvlab").removeHandler(handler)
            logging.getLogger("hvlab").setLevel(handler.previous_level)


def entry():
    """The `hv` program: main(), then the exit.  Once numba is loaded, the interpreter's own
    teardown (freeing numba's and LLVM's modules one by one) takes 0.15-0.2 s, a third of a
    warm `hv run hello`; so after the exit handlers have run and the output is flushed, the
    process ends at once, as long as no thread would have been waited for."""
    status = main()
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if "numba" not in sys.modules or any(not t.daemon for t in others):
        sys.exit(status)
    atexit._run_exitfuncs()                 # what sys.exit would run: restores, finalizers
    for stream in (sys.stdout, sys.stderr):
        if stream is None:                  # fd 1 or 2 was closed when hv started
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


if __name__ == "__main__":
    entry()
