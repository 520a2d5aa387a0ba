"""`RUN` in a Buildfile: a command run in an hvlab container on the shared kernel, whose
writable layer becomes the step's layer (issue 14 item 2, issue 13).

The builder calls exactly one function, which the container runtime provides as
`hypervisor.kernel.build.run_step` with this signature:

    run_step(layers, config, argv, env, workdir, user, log) -> (exit_status, upper_tar_path)

      layers   list of binary file objects: the image so far, bottom layer first, each an
               uncompressed tar (verified; OCI whiteouts inside), as Image.open_layers gives
      config   the image config so far (the OCI config's `config` object: Env, WorkingDir,
               User, Entrypoint, Cmd, Labels) - for reference; argv/env/workdir/user rule
      argv     list of str: ["/bin/sh", "-c", "make"] for the shell form, as given for exec
      env      list of "KEY=VALUE" (the image's Env with the Buildfile's ENV applied)
      workdir  absolute path inside the container ("/" when none was set)
      user     the USER so far ("" = root)
      log      callable(bytes): each chunk the command writes to stdout/stderr, as it comes

      returns  exit_status: int (0 = success; the build stops on anything else);
               upper_tar_path: path of an uncompressed tar of the container's writable layer
               (added, changed and whited-out files, OCI whiteouts `.wh.NAME` and
               `.wh..wh..opq`), or None when nothing changed (no layer is made).  The builder
               deletes the file when it has stored it.

Until the shared kernel exists, RUN fails with one clear line.
"""
import importlib

from .errors import OCIError

UNAVAILABLE = ("RUN needs the container runtime (hvlab's shared kernel, issue 13), which is "
               "not available in this build; build with COPY/ADD only")


def runner():
    """The kernel's run_step, or OCIError when there is none."""
    try:
        module = importlib.import_module("hypervisor.kernel.build")
    except ModuleNotFoundError as exc:
        if exc.name and "hypervisor.kernel.build".startswith(exc.name):
            raise OCIError(UNAVAILABLE) from None
        raise
    fn = getattr(module, "run_step", None)
    if fn is None:
        raise OCIError(UNAVAILABLE)
    return fn


def run_step(layers, config, argv, env, workdir, user, log):
    return runner()(layers, config, argv, env, workdir, user, log)
