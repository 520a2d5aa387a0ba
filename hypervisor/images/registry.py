"""`hv push` / `hv pull`: images to and from a registry over the OCI distribution spec
(distribution-spec spec.md; endpoint ids end-N below are that spec's), with httpx.

push: HEAD each blob (end-2) and send only the missing ones: a blob another repository of the
      registry has (as far as the local image names tell) is mounted (end-11, 201), the rest
      uploaded monolithically: POST to open an upload (end-4a, 202 + Location), PUT the bytes
      with ?digest= (end-6, 201); then PUT the manifest under the tag (end-7, 201).
pull: GET the manifest (end-3; an image index picks linux/riscv32), then GET each blob the
      store lacks (end-2) into a temp file, checked for size and digest (and a layer for its
      diff_id and entries) before anything is renamed into the store.

Defences: redirects are followed only within the registry's own scheme, host and port; a body
longer than its descriptor, a short one (the connection closed mid-blob), a digest mismatch or a
malformed manifest ends the command with one line, and the temp file is deleted.  No
authentication (a 401 says so).  Plain HTTP only with --insecure.
"""
import contextlib
import ipaddress
import urllib.parse

from . import mediatypes as mt
from .digest import Hasher, check, of
from .errors import DigestMismatch, OCIError, short
from .image import from_descriptor, load, parse_config, parse_index, parse_manifest, \
    pick_platform
from .layers import CHUNK, check_layer_file
from .progress import Reporter
from .reference import parse
from .store import MAX_JSON
from .tarsafe import Limits, human

ACCEPT = ", ".join([mt.MANIFEST, mt.INDEX, mt.DOCKER_MANIFEST, mt.DOCKER_LIST])
MAX_REDIRECTS = 5


class Client:
    def __init__(self, domain, insecure=False, timeout=30.0, reporter=None):
        import httpx
        self.httpx = httpx
        self.domain = domain
        self.base = f"{'http' if insecure else 'https'}://{domain}"
        self.origin = urllib.parse.urlsplit(self.base)[:2]
        # plain HTTP needs no certificates: not loading the CA bundle saves 0.2 s a command
        self.http = httpx.Client(timeout=timeout, follow_redirects=False, verify=not insecure,
                                 headers={"User-Agent": "hvlab/0.1 (+hv push/pull)"})
        self.report = reporter or Reporter()
        self.insecure = insecure
        if insecure and not _loopback(domain):
            self.report.warn(f"plain HTTP to {domain}, which is not this machine's loopback")

    def close(self):
        self.http.close()

    # -- HTTP with same-origin redirects and one-line errors ---------------------------------
    def request(self, method, path_or_url, stream=False, **kw):
        url = urllib.parse.urljoin(self.base + "/", path_or_url)
        for _ in range(MAX_REDIRECTS + 1):
            try:
                req = self.http.build_request(method, url, **kw)
                resp = self.http.send(req, stream=stream)
            except self.httpx.ConnectError as exc:
                hint = "" if self.insecure else \
                    " (a plain-HTTP registry on this machine needs --insecure)"
                raise OCIError(f"cannot connect to registry {self.domain}: {exc}{hint}") \
                    from None
            except self.httpx.TimeoutException:
                raise OCIError(f"registry {self.domain} timed out on {method} "
                               f"{_path(url)}") from None
            except self.httpx.HTTPError as exc:
                raise OCIError(f"registry {self.domain}: {method} {_path(url)}: "
                               f"{exc or type(exc).__name__}") from None
            if resp.status_code not in (301, 302, 303, 307, 308):
                return resp
            location = resp.headers.get("location", "")
            resp.close()
            target = urllib.parse.urljoin(url, location)
            if urllib.parse.urlsplit(target)[:2] != self.origin:
                raise OCIError(f"registry {self.domain} redirected {method} {_path(url)} to "
                               f"another host ({_origin(target)}); hvlab follows redirects "
                               "only within the registry")
            url = target
            if resp.status_code == 303:
                method = "GET"
        raise OCIError(f"registry {self.domain}: more than {MAX_REDIRECTS} redirects")

    def expect(self, resp, codes, what):
        if resp.status_code in codes:
            return resp
        if resp.status_code == 401:
            raise OCIError(f"registry {self.domain} requires authentication, which hvlab "
                           "does not support")
        detail = _error_detail(resp)
        resp.close()
        raise OCIError(f"registry {self.domain} answered {resp.status_code} to {what}"
                       + (f": {detail}" if detail else ""))

    # -- the distribution spec -----------------------------------------------------------------
    def ping(self):
        """end-1: GET /v2/ is 200 on a registry that implements the spec."""
        self.expect(self.request("GET", "/v2/"), (200,), "GET /v2/ (is it a registry?)")

    def has_blob(self, repo, digest):
        resp = self.request("HEAD", f"/v2/{repo}/blobs/{digest}")
        if resp.status_code == 404:
            return False
        self.expect(resp, (200,), f"HEAD blob {short(digest)}")
        return True

    def mount_blob(self, repo, digest, source):
        """end-11: link a blob another repository of this registry has; True if it did (201),
        else the 202 response of the upload it opened instead."""
        resp = self.request("POST", f"/v2/{repo}/blobs/uploads/?mount={digest}&from={source}")
        if resp.status_code == 201:
            return True
        return self.expect(resp, (202,), f"POST blobs/uploads/?mount={short(digest)}")

    def upload_blob(self, repo, desc, path, opened=None):
        digest, size = desc["digest"], desc["size"]
        resp = opened or self.expect(self.request("POST", f"/v2/{repo}/blobs/uploads/"),
                                     (202,), "POST blobs/uploads/")
        location = resp.headers.get("location")
        if not location:
            raise OCIError(f"registry {self.domain} opened an upload without a Location")
        sep = "&" if "?" in location else "?"
        with open(path, "rb") as f, self.report.bytes(f"{short(digest)} up", size) as advance:
            def body():
                for chunk in iter(lambda: f.read(CHUNK), b""):
                    advance(len(chunk))
                    yield chunk
            resp = self.request("PUT", f"{location}{sep}digest={digest}", content=body(),
                                headers={"Content-Type": "application/octet-stream",
                                         "Content-Length": str(size)})
        self.expect(resp, (201,), f"PUT blob {short(digest)}")
        got = resp.headers.get("docker-content-digest")
        if got and got != digest:
            raise DigestMismatch("registry's digest of uploaded blob", digest, got)

    def put_manifest(self, repo, reference, data, media_type):
        resp = self.request("PUT", f"/v2/{repo}/manifests/{reference}", content=data,
                            headers={"Content-Type": media_type})
        self.expect(resp, (201,), f"PUT manifest {reference}")

    def get_manifest(self, repo, reference):
        """(bytes, media type, digest); a digest reference or the registry's
        Docker-Content-Digest header is checked against the bytes."""
        resp = self.request("GET", f"/v2/{repo}/manifests/{reference}", stream=True,
                            headers={"Accept": ACCEPT})
        try:
            if resp.status_code == 404:
                raise OCIError(f"registry {self.domain} has no image {repo}:{reference}")
            self.expect(resp, (200,), f"GET manifest {reference}")
            data = self._read_limited(resp, MAX_JSON, f"manifest {reference}")
        finally:
            resp.close()
        digest = of(data)
        expected = reference if reference.startswith("sha256:") else \
            resp.headers.get("docker-content-digest")
        if expected and expected != digest:
            raise DigestMismatch(f"manifest {repo}:{reference} from {self.domain}",
                                 expected, digest)
        media = resp.headers.get("content-type", "").split(";")[0].strip()
        return data, media, digest

    def _read_limited(self, resp, limit, what):
        out = bytearray()
        try:
            for chunk in resp.iter_bytes():
                out += chunk
                if len(out) > limit:
                    raise OCIError(f"registry {self.domain}: {what} is larger than {limit} "
                                   "bytes")
        except self.httpx.HTTPError as exc:
            raise OCIError(f"registry {self.domain} closed the connection while sending "
                           f"{what} ({type(exc).__name__})") from None
        return bytes(out)

    def get_blob(self, repo, desc, out):
        """Download a blob into the binary file `out`, checking size and digest."""
        digest, size = desc["digest"], desc["size"]
        resp = self.request("GET", f"/v2/{repo}/blobs/{digest}", stream=True)
        h = Hasher()
        try:
            self.expect(resp, (200,), f"GET blob {short(digest)}")
            with self.report.bytes(f"{short(digest)} down", size) as advance:
                for chunk in resp.iter_raw(CHUNK):
                    h.update(chunk)
                    if h.size > size:
                        raise OCIError(f"registry {self.domain} sent more than the {size} "
                                       f"bytes of blob {short(digest)}")
                    out.write(chunk)
                    advance(len(chunk))
        except self.httpx.HTTPError as exc:
            raise OCIError(f"registry {self.domain} closed the connection in the middle of "
                           f"blob {short(digest)} ({h.size} of {size} bytes; "
                           f"{type(exc).__name__}); nothing was stored") from None
        finally:
            resp.close()
        if h.size != size:
            raise OCIError(f"registry {self.domain} sent {h.size} of the {size} bytes of "
                           f"blob {short(digest)} (connection closed?); nothing was stored")
        if h.digest != digest:
            raise DigestMismatch(f"blob from {self.domain}", digest, h.digest)


def _path(url):
    return urllib.parse.urlsplit(url).path


def _origin(url):
    s = urllib.parse.urlsplit(url)
    return f"{s.scheme}://{s.netloc}"


def _loopback(domain):
    host = urllib.parse.urlsplit("//" + domain).hostname or ""
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


def _error_detail(resp):
    """The spec's error body ({"errors": [{"code", "message"}]}), shortly."""
    try:
        resp.read()
        errors = resp.json().get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors[:3])
    except Exception:           # any body at all: garbage is still an answer
        return resp.reason_phrase or ""


# -- push and pull -------------------------------------------------------------------------
class Report:
    def __init__(self):
        self.uploaded, self.skipped, self.mounted, self.bytes = [], [], [], 0
        self.digest = None


def _mount_sources(store, domain, repo):
    """{blob digest: [repositories of this registry that should have it]}, from the local
    images named after that registry (Docker keeps the same knowledge as metadata)."""
    from .store import ref_name
    out = {}
    for d in store.entries():
        name = ref_name(d)
        if not name:
            continue
        try:
            r = parse(name)
            if r.domain != domain or r.path == repo:
                continue
            image = from_descriptor(store, d, name)
        except OCIError:
            continue
        for blob in [image.id] + [x["digest"] for x in image.layers]:
            out.setdefault(blob, []).append(r.path)
    return out


def _remote(text):
    ref = parse(text)
    if not ref.domain:
        raise OCIError(f"{text}: name a registry (e.g. 127.0.0.1:5000/{ref.path}:"
                       f"{ref.tag or 'latest'}); hvlab has no default registry")
    return ref


def push(store, source, dest=None, insecure=False, reporter=None):
    """Push the local image `source` to `dest` (default: source, which then names a
    registry); returns a Report (uploaded / skipped blob digests)."""
    report, rep = Report(), reporter or Reporter()
    image = load(store, source)
    ref = _remote(dest or source)
    client = Client(ref.domain, insecure, reporter=rep)
    try:
        client.ping()
        rep.line(f"pushing {ref} ({len(image.layers)} layers)")
        sources = _mount_sources(store, ref.domain, ref.path)
        for desc in [*image.layers, image.manifest["config"]]:
            if client.has_blob(ref.path, desc["digest"]):
                report.skipped.append(desc["digest"])
                rep.line(f"  {short(desc['digest'])} already there")
                continue
            opened = None
            for source in sources.get(desc["digest"], [])[:3]:
                opened = client.mount_blob(ref.path, desc["digest"], source)
                if opened is True:
                    break
            if opened is True:
                report.mounted.append(desc["digest"])
                rep.line(f"  {short(desc['digest'])} mounted from {source}")
                continue
            client.upload_blob(ref.path, desc, store.blob_path(desc["digest"]), opened)
            report.uploaded.append(desc["digest"])
            report.bytes += desc["size"]
            rep.line(f"  {short(desc['digest'])} uploaded {human(desc['size'])}")
        client.put_manifest(ref.path, ref.tag or image.digest, image.manifest_bytes,
                            image.media_type)
    finally:
        client.close()
    report.digest = image.digest
    rep.line(f"pushed {ref}@{image.digest}: {len(report.uploaded)} blobs uploaded "
             f"({human(report.bytes)}), {len(report.mounted)} mounted from other "
             f"repositories, {len(report.skipped)} already there, in {rep.elapsed():.2f} s")
    return report


def pull(store, text, insecure=False, reporter=None, limits=None):
    """Pull `text` (registry/name[:tag|@digest]) into the store under that name."""
    rep, limits = reporter or Reporter(), limits or Limits.from_env()
    ref = _remote(text)
    client = Client(ref.domain, insecure, reporter=rep)
    try:
        client.ping()
        data, media, digest = client.get_manifest(ref.path, ref.digest or ref.tag)
        if media in mt.INDEXES or (media not in mt.MANIFESTS and b'"manifests"' in data):
            desc = pick_platform(parse_index(data, f"index of {ref}"), str(ref))
            data, media, digest = client.get_manifest(ref.path, check(desc["digest"]))
        manifest = parse_manifest(data, f"manifest of {ref}")
        with store.writing(), contextlib.ExitStack() as stack:
            staged = []
            cfg = manifest["config"]
            config_bytes = _fetch(client, store, ref, cfg, stack, staged, limits, rep)
            config = parse_config(config_bytes, len(manifest["layers"]), f"config of {ref}")
            for layer, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"]):
                _fetch(client, store, ref, layer, stack, staged, limits, rep, diff_id)
            for path, d in staged:
                store.adopt(path, d)
            store.put_blob(data)
            media = manifest.get("mediaType", media if media in mt.MANIFESTS else mt.MANIFEST)
            name = str(ref) if not ref.digest or ref.tag else f"{ref.name}@{ref.digest}"
            store.tag(name, {"mediaType": media, "digest": digest, "size": len(data),
                             "platform": {"architecture": config["architecture"],
                                          "os": config["os"]}})
            image = from_descriptor(store, store.resolve(name), name)
    finally:
        client.close()
    rep.line(f"pulled {ref}@{image.digest} ({len(staged)} blobs downloaded) "
             f"in {rep.elapsed():.2f} s")
    return image


def _fetch(client, store, ref, desc, stack, staged, limits, rep, diff_id=None):
    """A blob the store lacks, downloaded and checked into a temp file (staged); returns the
    bytes of a config (small) and None for a layer."""
    digest = desc["digest"]
    if desc["size"] > limits.max_blob:
        raise OCIError(f"blob {short(digest)} of {ref}: {human(desc['size'])} is past the "
                       f"limit of {human(limits.max_blob)}")
    if store.has_blob(digest):
        rep.line(f"  {short(digest)} already in the store")
        return store.read_blob(digest) if diff_id is None else None
    f, path = stack.enter_context(store.temp())
    client.get_blob(ref.path, desc, f)
    f.flush()
    if diff_id is not None:
        spool, _, findings = check_layer_file(path, desc, diff_id, limits,
                                              f"layer {short(digest)} of {ref}")
        spool.close()
        for x in findings:
            rep.warn(f"layer {short(digest)}: {x}")
    staged.append((path, digest))
    rep.line(f"  {short(digest)} downloaded {human(desc['size'])}")
    if diff_id is None:
        f.seek(0)
        data = f.read(MAX_JSON + 1)
        if len(data) > MAX_JSON:
            raise OCIError(f"config of {ref} is larger than {MAX_JSON} bytes")
        return data
    return None
