"""`hv image ...`, `hv push`, `hv pull`: the CLI of the image store (docs/images.md).

Exit status 0 on success, 1 for an image, store, Buildfile or registry error (one line on
stderr), 2 for a bad command line.
"""
import functools
import json
import sys

from .errors import OCIError, short
from .tarsafe import human

HELP = "OCI images: build, inspect, save/load, push/pull (hv image --help)"


def _store_option(p):
    p.add_argument("--store", metavar="DIR",
                   help="the image store (default: $HV_STORE or the user data directory)")


def _guard(name):
    def wrap(fn):
        @functools.wraps(fn)
        def run(args):
            try:
                return fn(args) or 0
            except OCIError as exc:
                print(f"hv {name}: error: {exc}", file=sys.stderr)
                return 1
            except BrokenPipeError:
                return 1
            except OSError as exc:
                if exc.filename is None:        # not a file the user named: the top level's
                    raise
                # `save -o /no/such/dir/x.tar`, `initramfs -o DIR`: a traceback before
                print(f"hv {name}: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
                return 1
        return run
    return wrap


def _store(args):
    from .store import Store
    return Store(args.store)


def register(sub):
    p = sub.add_parser("image", help=HELP, description=HELP)
    isub = p.add_subparsers(dest="image_command", metavar="COMMAND",
                            parser_class=type(p))
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])
    for fn in (_build, _ls, _inspect, _history, _tag, _rm, _prune, _diff, _tree, _import,
               _check, _initramfs):
        fn(isub)
    from . import transfer_commands
    transfer_commands.register(isub, sub, _store_option, _guard, _store)


def _add(isub, name, help_, fn, *arguments):
    q = isub.add_parser(name, help=help_, description=help_)
    for args, kw in arguments:
        q.add_argument(*args, **kw)
    _store_option(q)
    q.set_defaults(func=_guard(f"image {name}")(fn))
    return q


def arg(*args, **kw):
    return args, kw


# -- build ---------------------------------------------------------------------------------
def _build(isub):
    _add(isub, "build", "build an image from a Buildfile (a Dockerfile subset)", cmd_build,
         arg("context", metavar="CONTEXT", help="the build context directory"),
         arg("-f", "--file", metavar="BUILDFILE",
             help="the Buildfile (default: CONTEXT/Buildfile, else CONTEXT/Dockerfile)"),
         arg("-t", "--tag", metavar="NAME[:TAG]", help="tag the result"),
         arg("--no-cache", action="store_true", help="do not reuse cached steps"),
         arg("--compression", choices=("gzip", "zstd", "none"), default="gzip",
             help="layer compression (default gzip)"),
         arg("-q", "--quiet", action="store_true", help="print only the image digest"))


def cmd_build(args):
    import os
    from .build import build
    from .progress import Reporter
    from .reference import local_name
    buildfile = args.file
    if buildfile is None:
        buildfile = next((os.path.join(args.context, n) for n in ("Buildfile", "Dockerfile")
                          if os.path.isfile(os.path.join(args.context, n))),
                         os.path.join(args.context, "Buildfile"))
    tag = local_name(args.tag) if args.tag else None
    image = build(_store(args), buildfile, args.context, tag, compression=args.compression,
                  use_cache=not args.no_cache, reporter=Reporter(quiet=args.quiet))
    if args.quiet:
        print(image.digest)


# -- ls, inspect, history ------------------------------------------------------------------
def _ls(isub):
    _add(isub, "ls", "list the images in the store", cmd_ls,
         arg("-q", "--quiet", action="store_true", help="only image ids"),
         arg("--digests", action="store_true", help="show manifest digests"),
         arg("--no-trunc", action="store_true", help="full ids"))
    isub._name_parser_map["list"] = isub._name_parser_map["ls"]


def cmd_ls(args):
    from .image import from_descriptor
    from .inspect import ago, split_name
    from .store import ref_name
    store = _store(args)
    rows = []
    for d in store.entries():
        name = ref_name(d)
        try:
            image = from_descriptor(store, d, name or short(d["digest"]))
        except OCIError as exc:
            print(f"hv image ls: warning: {name or short(d['digest'])}: {exc}",
                  file=sys.stderr)
            continue
        repo, tag = split_name(name)
        ident = image.id if args.no_trunc else short(image.id)
        rows.append((repo, tag, ident, image.digest if args.digests else None,
                     ago(image.config.get("created", "")), human(image.size),
                     f"{image.os}/{image.architecture}"))
    rows.sort()
    if args.quiet:
        for r in rows:
            print(r[2])
        return
    head = ("REPOSITORY", "TAG", "IMAGE ID", "DIGEST", "CREATED", "SIZE", "PLATFORM")
    keep = [i for i in range(7) if i != 3 or args.digests]
    _table([tuple(r[i] for i in keep) for r in [head] + rows])


def _table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("   ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


def _inspect(isub):
    _add(isub, "inspect", "show images as JSON (like docker image inspect)", cmd_inspect,
         arg("refs", nargs="+", metavar="IMAGE"))


def cmd_inspect(args):
    from .image import load
    from .inspect import inspect
    store = _store(args)
    users = store.users()
    out = []
    for ref in args.refs:
        image = load(store, ref)
        out.append(inspect(image, sorted(h for h, d in users.items() if d == image.digest)))
    print(json.dumps(out, indent=4))


def _history(isub):
    _add(isub, "history", "one row per step: the layer it made, its size and the step",
         cmd_history, arg("ref", metavar="IMAGE"),
         arg("--no-trunc", action="store_true", help="do not shorten CREATED BY"))


def cmd_history(args):
    from .image import load
    from .inspect import history
    rows = history(load(_store(args), args.ref))
    if not args.no_trunc:
        rows = [(a, b, c if len(c) <= 45 else c[:44] + "…", d, e) for a, b, c, d, e in rows]
    _table([("LAYER", "CREATED", "CREATED BY", "SIZE", "COMMENT")] + rows)


# -- tag, rm, prune --------------------------------------------------------------------------
def _tag(isub):
    _add(isub, "tag", "give an image another name", cmd_tag,
         arg("source", metavar="IMAGE"), arg("target", metavar="NAME[:TAG]"))


def cmd_tag(args):
    from .reference import local_name
    store = _store(args)
    store.tag(local_name(args.target), store.resolve(args.source))


def _rm(isub):
    _add(isub, "rm", "remove images (refused while a container uses one)", cmd_rm,
         arg("refs", nargs="+", metavar="IMAGE"),
         arg("-f", "--force", action="store_true",
             help="untag even an image with several tags or one a container uses "
                  "(its blobs stay while the container does)"))
    isub._name_parser_map["rmi"] = isub._name_parser_map["rm"]


def cmd_rm(args):
    from .gc import prune
    from .store import ref_name
    store = _store(args)
    status = 0
    for ref in args.refs:
        try:
            desc = store.resolve(ref)
        except OCIError as exc:
            print(f"hv image rm: error: {exc}", file=sys.stderr)
            status = 1
            continue
        digest = desc["digest"]
        holders = sorted(h for h, d in store.users().items() if d == digest)
        if holders and not args.force:
            print(f"hv image rm: error: image {ref} is used by container(s) "
                  f"{', '.join(holders)}; remove them first (hv container rm) or use -f",
                  file=sys.stderr)
            status = 1
            continue
        by_tag = ref_name(desc) in (ref, _maybe_local(ref))
        names = [ref_name(d) for d in store.entries() if d["digest"] == digest]
        if not by_tag and len(names) > 1 and not args.force:
            print(f"hv image rm: error: image {ref} has tags {', '.join(names)}; remove them "
                  "by name or use -f", file=sys.stderr)
            status = 1
            continue
        removed = store.untag(name=ref_name(desc)) if by_tag else store.untag(digest=digest)
        for d in removed:
            if ref_name(d):
                print(f"Untagged: {ref_name(d)}")
        if not any(d["digest"] == digest for d in store.entries()):
            print(f"Deleted: {digest}")
    if prune(store, dangling=False, wait=False) is None:   # a build is running: leave it
        print("hv image rm: the blobs are left for `hv image prune` (the store is busy)",
              file=sys.stderr)
    return status


def _maybe_local(ref):
    from .reference import local_name
    try:
        return local_name(ref)
    except OCIError:
        return ref


def _prune(isub):
    _add(isub, "prune", "remove dangling images and every blob no image uses", cmd_prune,
         arg("--dry-run", action="store_true", help="only say what would be removed"))


def cmd_prune(args):
    from .gc import prune
    removed, freed = prune(_store(args), dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {len(removed)} blobs, {human(freed)}")
    for d in removed:
        print(f"  {d}")


# -- diff, tree ----------------------------------------------------------------------------
def _diff(isub):
    _add(isub, "diff", "files added (A), changed (C) or deleted (D) from image A to image B",
         cmd_diff, arg("a", metavar="A"), arg("b", metavar="B"))


def cmd_diff(args):
    from .image import load
    from .inspect import diff
    store = _store(args)
    for op, path, what in diff(load(store, args.a), load(store, args.b)):
        print(f"{op} {path}" + (f"  ({what})" if what else ""))


def _tree(isub):
    _add(isub, "tree", "what each layer adds (+), changes (~), whites out (-) or makes "
         "opaque (*)", cmd_tree, arg("ref", metavar="IMAGE"))


def cmd_tree(args):
    from .image import load
    from .inspect import tree
    signs = {"A": "+", "C": "~", "D": "-", "O": "*"}
    for i, (desc, text, changes) in enumerate(tree(load(_store(args), args.ref)), 1):
        print(f"layer {i} {short(desc['digest'])} {human(desc['size'])}  {text}")
        for op, path in changes:
            extra = " (opaque: lower entries hidden)" if op == "O" else ""
            print(f"  {signs[op]} /{path.strip('/')}{extra}")


# -- import, check, initramfs ----------------------------------------------------------------
def _import(isub):
    _add(isub, "import", "make a one-layer image from a root file system tar (docker import)",
         cmd_import, arg("tar", metavar="TAR"), arg("ref", metavar="NAME[:TAG]"),
         arg("-c", "--change", action="append", default=[], metavar="INSTRUCTION",
             help="a Buildfile instruction applied to the config (CMD, ENV, ...)"),
         arg("-m", "--message", default="", help="the history comment"))


def cmd_import(args):
    from .importer import import_tar
    image = import_tar(_store(args), args.tar, _maybe_local(args.ref), args.change,
                       args.message)
    print(image.digest)


def _check(isub):
    _add(isub, "check", "verify every blob's digest and every image's references", cmd_check)


def cmd_check(args):
    from .gc import check
    problems = check(_store(args))
    for p in problems:
        print(p)
    if problems:
        raise OCIError(f"{len(problems)} problems in the store")
    print("store is sound")


def _initramfs(isub):
    _add(isub, "initramfs", "pack an image's root file system into a cpio (newc) initramfs",
         cmd_initramfs, arg("ref", metavar="IMAGE"),
         arg("-o", "--output", required=True, metavar="FILE"))


def cmd_initramfs(args):
    from .cpio import write_image_cpio
    from .image import load
    count, size = write_image_cpio(load(_store(args), args.ref), args.output)
    print(f"{args.output}: {count} entries, {human(size)}")

