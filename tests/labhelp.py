"""Shared by tests/test_labs_*.py: one quick run of a lab per test module, and a look at a PNG."""
import json

import numpy as np

from hypervisor.labs import get
from hypervisor.labs.commands import run_lab


def quick_run(tmp_path_factory, name, seed):
    """A lab's --quick run into a fresh directory: (results as written to results.json, out)."""
    out = tmp_path_factory.mktemp(name)
    run_lab(get(name), seed=seed, quick=True, out=out, quiet=True)
    return json.loads((out / "results.json").read_text()), out


def assert_picture(path):
    """A written PNG that is a picture: not tiny, not one flat colour, not mostly blank."""
    from matplotlib.image import imread
    assert path.exists(), path
    assert path.stat().st_size > 10_000, f"{path.name}: only {path.stat().st_size} bytes"
    img = imread(path)[..., :3]
    assert img.shape[0] > 150 and img.shape[1] > 300, img.shape
    assert float(np.std(img)) > 0.05, f"{path.name} is (nearly) one colour"
    white = np.mean(np.all(img > 0.97, axis=-1))
    assert white < 0.97, f"{path.name} is {white:.0%} white"
