"""Packaging: a wheel and an sdist built with `python -m build`, each installed into a fresh
venv, boot the bundled guests from there (not from this source tree).

Offline and quick: no build isolation (setuptools and wheel from this environment, as the
[test] extra installs them), venvs without pip of their own that see this environment's
site-packages for the dependencies, this pip installing into them with --no-deps --no-index.
The wheel's venv starts with an empty numba cache, so its first `hv run` is a real cold start:
the compile message comes first, and the VM's host time does not include the compile.  The
sdist's venv compiles the same hart again (the cache is per installed file): `hv run hello`
there is in the slow run (-m slow); by default it runs `hv --version` and `hv images` and
checks that pip installed the same files as from the wheel.
"""
import importlib.util
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP_FILES = (".pyc", ".nbi", ".nbc")

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("build") is None or importlib.util.find_spec("wheel") is None,
    reason="needs the build and wheel packages (pip install -e '.[test]')")


def _env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR", "VIRTUAL_ENV", "COLUMNS")}
    env["PIP_NO_INDEX"] = "1"
    return env


def sh(*argv, cwd=None, timeout=300):
    r = subprocess.run([str(a) for a in argv], cwd=cwd, env=_env(), capture_output=True,
                       text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"{argv}: {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    # the sdist first, then the wheel built from the unpacked sdist: that the wheel builds at
    # all proves the sdist holds what a build needs
    sh(sys.executable, "-m", "build", "--no-isolation", "--skip-dependency-check",
       "--outdir", out, ROOT)
    (wheel,) = out.glob("hvlab-*.whl")
    (sdist,) = out.glob("hvlab-*.tar.gz")
    return wheel, sdist


def venv(path, dist, *pip_options):
    """A fresh venv with ``dist`` installed: the files pip put in it (relative paths)."""
    sh(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", path)
    bin_dir = path / "bin"
    sh(sys.executable, "-m", "pip", "--python", bin_dir / "python", "install", "--no-deps",
       "--no-index", *pip_options, dist)
    return bin_dir


def installed(bin_dir):
    out = sh(bin_dir / "python", "-c", "import hypervisor, os; print(os.path.dirname("
             "hypervisor.__file__))").stdout.strip()
    files = set()
    for top, dirs, names in os.walk(out):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        files |= {str(Path(top, n).relative_to(Path(out).parent)) for n in names
                  if not n.endswith(SKIP_FILES)}
    return files


def package_files():
    """Every file of the package in this tree: code and data (the images, manifest, .tcss)."""
    files = set()
    for top, dirs, names in os.walk(ROOT / "hypervisor"):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if not name.endswith(SKIP_FILES):
                files.add(str(Path(top, name).relative_to(ROOT)))
    return files


def test_the_wheel_holds_every_file_of_the_package(dists):
    wheel, sdist = dists
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = package_files() - in_wheel
    assert not missing, f"not in the wheel: {sorted(missing)}"
    in_sdist = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    for needed in ("pyproject.toml", "README.md", "MANIFEST.in", "guests/Makefile",
                   "guests/tools/mkmanifest.py", "docs/exits.md", "tests/test_cli_packaging.py"):
        assert needed in in_sdist, needed
    assert not package_files() - in_sdist
    assert not [n for n in in_sdist if "__pycache__" in n or n.endswith(SKIP_FILES)]


def _installs(bin_dir, cwd):
    python = bin_dir / "python"
    where = sh(python, "-c", "import hypervisor; print(hypervisor.__file__)", cwd=cwd).stdout
    assert where.startswith(str(bin_dir.parent)), where            # the venv's, not this tree
    version = sh(bin_dir / "hv", "--version", cwd=cwd).stdout
    from hypervisor import __version__
    assert version == f"hv (hvlab) {__version__}\n"
    images = sh(bin_dir / "hv", "images", cwd=cwd).stdout
    assert re.search(r"^hello +64M ", images, re.M) and "rogue" in images


def test_a_wheel_in_a_fresh_venv_boots_hello(dists, tmp_path):
    wheel, _ = dists
    bin_dir = venv(tmp_path / "venv", wheel)
    _installs(bin_dir, tmp_path)
    r = sh(bin_dir / "hv", "run", "hello", "--stats", cwd=tmp_path)
    assert "hello: shutting down with SBI SRST" in r.stdout
    # a cold start: the message came before the guest's first byte could, and the compile is
    # not in the VM's host time (it takes seconds; hello runs in hundredths)
    assert r.stderr.startswith("hv: compiling the hart, once"), r.stderr
    row = next(line for line in r.stderr.splitlines() if line.startswith("hello "))
    assert float(row.split()[4]) < 1.0, r.stderr
    compiled = float(re.search(r"compiled in ([\d.]+) s", r.stderr).group(1))
    assert compiled > float(row.split()[4])
    again = sh(bin_dir / "hv", "run", "hello", cwd=tmp_path)         # warm: nothing said
    assert again.stderr == "" and "Hello from a hvlab guest" in again.stdout


def test_an_sdist_in_a_fresh_venv_installs_what_the_wheel_does(dists, tmp_path):
    wheel, sdist = dists
    bin_dir = venv(tmp_path / "venv", sdist, "--no-build-isolation")
    _installs(bin_dir, tmp_path)
    assert installed(bin_dir) == {n for n in zipfile.ZipFile(wheel).namelist()
                                  if n.startswith("hypervisor/")}


@pytest.mark.slow
def test_an_sdist_in_a_fresh_venv_boots_hello(dists, tmp_path):
    _, sdist = dists
    bin_dir = venv(tmp_path / "venv", sdist, "--no-build-isolation")
    r = sh(bin_dir / "hv", "run", "hello", cwd=tmp_path)
    assert "hello: shutting down with SBI SRST" in r.stdout
