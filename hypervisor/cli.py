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
import os
import sys
import threading

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


def main(argv=None):
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
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:            # "error" once, even when the message has its own
        text = str(exc)
        print(f"hv {args.command}: {'' if 'error:' in text else 'error: '}{text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hv: interrupted", file=sys.stderr)
        return 130


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
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


if __name__ == "__main__":
    entry()
