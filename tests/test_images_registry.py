"""`hv push` / `hv pull` against a real registry (Debian's docker-registry, the CNCF
distribution 2.8, on a free loopback port), and against hostile fake registries: garbage,
redirects elsewhere, a connection closed mid-blob, oversized and wrong blobs.  Upload counts
come from the registry's own access log, not from hvlab."""
import http.server
import json
import os
import threading

import pytest

from hypervisor import images
from oci_helpers import _own_store, hv, make_context, registry  # noqa: F401


def build(capsys, tmp_path, tag, files, buildfile, store=None):
    ctx = make_context(tmp_path / ("ctx-" + tag.replace(":", "-").replace("/", "-")),
                       {"Buildfile": buildfile.encode(), **files})
    extra = ["--store", store] if store else []
    status, out, err = hv(capsys, "image", "build", "-t", tag, ctx, *extra)
    assert status == 0, err
    return images.open_image(tag, store)


def test_push_rm_pull_round_trip_keeps_every_digest(tmp_path, capsys, registry):
    name = f"{registry.host}/course/demo:1"
    img = build(capsys, tmp_path, name, {"a": os.urandom(30_000), "b": b"bee\n"},
                "FROM scratch\nCOPY a /a\nCOPY b /b\nENV X=1\nCMD [\"/a\"]\n")
    before = len(registry.uploads())
    status, out, err = hv(capsys, "push", name, "--insecure")
    assert status == 0, err
    assert len(registry.uploads()) - before == 3            # two layers and the config
    assert "3 blobs uploaded" in err
    assert hv(capsys, "image", "rm", name)[0] == 0
    with pytest.raises(images.OCIError):
        images.open_image(name)
    status, out, err = hv(capsys, "pull", name, "--insecure")
    assert status == 0, err
    again = images.open_image(name)
    assert out.strip() == again.digest == img.digest
    assert again.id == img.id and again.layers == img.layers
    assert again.manifest_bytes == img.manifest_bytes
    # the registry's view of it (end-3 with the OCI Accept header)
    import httpx
    resp = httpx.get(f"http://{registry.host}/v2/course/demo/manifests/1",
                     headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert resp.headers["docker-content-digest"] == img.digest
    # a fresh store on "another host" gets the same image
    status, out, err = hv(capsys, "image", "pull", name, "--insecure", "--store",
                          tmp_path / "host2")
    assert status == 0 and out.strip() == img.digest
    assert hv(capsys, "image", "check", "--store", tmp_path / "host2")[0] == 0


def test_a_second_push_sharing_layers_uploads_only_the_new_ones(tmp_path, capsys, registry):
    base = f"{registry.host}/course/base:1"
    build(capsys, tmp_path, base, {"lib": os.urandom(40_000), "etc": b"conf"},
          "FROM scratch\nCOPY lib /lib/big\nCOPY etc /etc/conf\n")
    start = len(registry.uploads())
    assert hv(capsys, "image", "push", base, "--insecure")[0] == 0
    assert len(registry.uploads()) - start == 3
    child = f"{registry.host}/course/app:1"
    build(capsys, tmp_path, child, {"app": b"app"}, f"FROM {base}\nCOPY app /bin/app\n")
    mark = len(registry.requests())
    status, out, err = hv(capsys, "push", child, "--insecure")
    assert status == 0, err
    new = registry.requests()[mark:]
    uploads = [p for m, p in new if m == "PUT" and "/blobs/uploads/" in p]
    heads = [p for m, p in new if m == "HEAD"]
    mounts = [p for m, p in new if m == "POST" and "mount=" in p]
    assert len(uploads) == 2        # the new layer and the new config
    assert len(heads) == 4 and len(mounts) == 2     # base's two layers: linked, not sent
    assert "2 blobs uploaded" in err and "2 mounted from other repositories" in err
    # the same layers under another tag of the same repository: HEAD finds them
    other = f"{registry.host}/course/app:2"
    build(capsys, tmp_path, other, {"app": b"app2"}, f"FROM {base}\nCOPY app /bin/app\n")
    mark = len(registry.requests())
    status, out, err = hv(capsys, "push", other, "--insecure")
    new = registry.requests()[mark:]
    assert len([p for m, p in new if m == "PUT" and "/blobs/uploads/" in p]) == 2
    assert "2 already there" in err
    # pushing the same image again uploads nothing
    mark = len(registry.uploads())
    assert hv(capsys, "push", child, "--insecure")[0] == 0
    assert len(registry.uploads()) == mark


def test_push_to_another_name_and_pull_by_digest(tmp_path, capsys, registry):
    img = build(capsys, tmp_path, "local:1", {"f": b"x"}, "FROM scratch\nCOPY f /f\n")
    dest = f"{registry.host}/other/name:v9"
    assert hv(capsys, "push", "local:1", dest, "--insecure")[0] == 0
    by_digest = f"{registry.host}/other/name@{img.digest}"
    status, out, err = hv(capsys, "pull", by_digest, "--insecure", "--store", tmp_path / "h2")
    assert status == 0, err
    assert images.open_image(by_digest, tmp_path / "h2").digest == img.digest


@pytest.mark.parametrize("argv, message", [
    (["push", "local:1", "--insecure"], "name a registry"),
    (["pull", "127.0.0.1:9/x:1", "--insecure"], "cannot connect to registry 127.0.0.1:9"),
    (["pull", "REGISTRY/none:1", "--insecure"], "has no image none:1"),
    (["pull", "REGISTRY/x:1"], "a plain-HTTP registry on this machine needs --insecure"),
])
def test_registry_errors_are_one_line(tmp_path, capsys, registry, argv, message):
    build(capsys, tmp_path, "local:1", {"f": b"x"}, "FROM scratch\nCOPY f /f\n")
    argv = [a.replace("REGISTRY", registry.host) for a in argv]
    status, out, err = hv(capsys, *argv)
    assert status == 1 and message in err and err.count("\n") == 1, err


# -- hostile registries --------------------------------------------------------------------
class Fake(http.server.ThreadingHTTPServer):
    daemon_threads = True


def fake_registry(blobs, manifest, mode):
    """A registry serving one image (`blobs` by digest, `manifest` bytes) with one defect."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def send(self, code, body=b"", headers=()):
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            if not any(k.lower() == "content-length" for k, _ in headers):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            path = self.path
            if path == "/v2/":
                return self.send(200, b"{}")
            if "/manifests/" in path:
                if mode == "garbage-manifest":
                    return self.send(200, b"\x00\x01<html>oops", [("Content-Type",
                                     "application/vnd.oci.image.manifest.v1+json")])
                if mode == "redirect-elsewhere":
                    return self.send(307, headers=[("Location",
                                                    "http://198.51.100.7/v2/x/manifests/1")])
                return self.send(200, manifest, [("Content-Type",
                                 "application/vnd.oci.image.manifest.v1+json")])
            digest = path.rsplit("/", 1)[-1]
            data = blobs.get(digest)
            if data is None:
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"x"}]}')
            is_layer = len(data) > 200
            if mode == "close-mid-blob" and is_layer:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 3])
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            if mode == "oversized-blob" and is_layer:
                return self.send(200, data + b"\0" * 5000)
            if mode == "wrong-blob" and is_layer:
                return self.send(200, bytes(len(data)))
            if mode == "redirect-blob-same-host":
                if "moved" not in path:
                    return self.send(302, headers=[("Location", f"/moved{path}")])
            return self.send(200, data)
    server = Fake(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def served(tmp_path, capsys):
    img = build(capsys, tmp_path, "served:1", {"f": os.urandom(20_000)},
                "FROM scratch\nCOPY f /f\n", store=tmp_path / "origin")
    store = images.open_store(tmp_path / "origin")
    blobs = {d: store.blob_path(d).read_bytes() for d in
             [img.id] + [x["digest"] for x in img.layers]}
    return img, blobs


@pytest.mark.parametrize("mode, message", [
    ("garbage-manifest", "not JSON"),
    ("redirect-elsewhere", "redirected GET /v2/x/manifests/1 to another host "
     "(http://198.51.100.7)"),
    ("close-mid-blob", "closed the connection in the middle of blob"),
    ("oversized-blob", "sent more than the"),
    ("wrong-blob", "digest mismatch"),
])
def test_a_hostile_registry_is_one_line_and_nothing_lands(tmp_path, capsys, served, mode,
                                                          message):
    img, blobs = served
    server = fake_registry(blobs, img.manifest_bytes, mode)
    try:
        ref = f"127.0.0.1:{server.server_address[1]}/x:1"
        status, out, err = hv(capsys, "pull", ref, "--insecure")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 1
    lines = [x for x in err.splitlines() if not x.startswith("  ")]
    assert len(lines) == 1 and message in lines[0], err
    store = tmp_path / "store"
    assert not os.listdir(store / "blobs" / "sha256")       # not a byte of it stored
    assert not os.listdir(store / ".hvlab" / "tmp")          # and no partial file left
    assert json.loads((store / "index.json").read_text())["manifests"] == []


def test_redirects_within_the_registry_are_followed(tmp_path, capsys, served):
    img, blobs = served
    server = fake_registry(blobs, img.manifest_bytes, "redirect-blob-same-host")
    try:
        ref = f"127.0.0.1:{server.server_address[1]}/x:1"
        status, out, err = hv(capsys, "pull", ref, "--insecure")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 0, err
    assert images.open_image(ref).digest == img.digest
