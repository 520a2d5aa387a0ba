"""The machine a lab ran on, for results.json and the report: time-based figures mean little
without it (CPU model, cores, load, the versions of Python, numpy, numba and hvlab)."""
import os
import platform


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(module):
    try:
        return __import__(module).__version__
    except Exception:           # not installed, or no version: say so rather than fail a lab
        return "not installed"


def hvlab_version():
    try:
        from importlib.metadata import version
        return version("hvlab")
    except Exception:
        from .. import __version__
        return __version__


def describe():
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average": load,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
        "matplotlib": _version("matplotlib"),
        "hvlab": hvlab_version(),
    }


def one_line(host):
    return (f"{host['cpu']}, {host['cores']} cores, load {host['load_average']}; Python "
            f"{host['python']}, numba {host['numba']}, hvlab {host['hvlab']}")
