"""`hv image save/load/push/pull`, and `hv push` / `hv pull` (the same commands)."""
from .tarsafe import human


def register(isub, sub, store_option, guard, store):
    def add(parser_sub, name, help_, fn, *arguments, label=None):
        q = parser_sub.add_parser(name, help=help_, description=help_)
        for args, kw in arguments:
            q.add_argument(*args, **kw)
        store_option(q)
        q.set_defaults(func=guard(label or f"image {name}")(lambda a: fn(a, store(a))))
        return q

    def arg(*args, **kw):
        return args, kw

    add(isub, "save", "write images to a tar (OCI layout + docker manifest.json)", cmd_save,
        arg("refs", nargs="+", metavar="IMAGE"),
        arg("-o", "--output", required=True, metavar="FILE"))
    add(isub, "load", "load images from a tar (OCI layout, or docker save's format)",
        cmd_load, arg("-i", "--input", required=True, metavar="FILE"))
    push_args = (arg("source", metavar="IMAGE",
                     help="a local image; REGISTRY/NAME[:TAG] pushes it there"),
                 arg("dest", nargs="?", metavar="REGISTRY/NAME[:TAG]",
                     help="where to push (default: IMAGE's own name)"),
                 arg("--insecure", action="store_true",
                     help="plain HTTP (a registry on this machine's loopback)"))
    pull_args = (arg("ref", metavar="REGISTRY/NAME[:TAG|@DIGEST]"),
                 arg("--insecure", action="store_true",
                     help="plain HTTP (a registry on this machine's loopback)"))
    for parser_sub, prefix in ((isub, "image "), (sub, "")):
        add(parser_sub, "push", "push an image to an OCI distribution registry", cmd_push,
            *push_args, label=prefix + "push")
        add(parser_sub, "pull", "pull an image from an OCI distribution registry", cmd_pull,
            *pull_args, label=prefix + "pull")


def cmd_save(args, store):
    from .archive import save
    images = save(store, args.refs, args.output)
    print(f"saved {len(images)} images to {args.output}")


def cmd_load(args, store):
    from .archive import load
    from .progress import Reporter
    from .errors import short
    for name, image in load(store, args.input, Reporter()):
        print(f"Loaded image: {name or short(image.digest)} ({image.digest}, "
              f"{len(image.layers)} layers, {human(image.size)})")


def cmd_push(args, store):
    from .registry import push
    push(store, args.source, args.dest, args.insecure)


def cmd_pull(args, store):
    from .registry import pull
    image = pull(store, args.ref, args.insecure)
    print(image.digest)
