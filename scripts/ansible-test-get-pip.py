"""Offline stand-in for the get-pip.py that ansible-test downloads from its own CI file server.

ansible-test creates its sanity venvs without pip and bootstraps pip by running the
get-pip script it fetches from ci-files.testing.ansible.com, which this network cannot reach.
This script does the same job from what is at hand: the interpreter's bundled pip (ensurepip),
then `pip install` of exactly what ansible-test asked for, from PyPI.

`python ansible-test-get-pip.py --install-shim` (run with the venv that has ansible-test) puts
this file where ansible-test looks for its cached copy, named after the pip version it wants.
"""
import ensurepip
import os
import subprocess
import sys

# get-pip's own flags, which `pip install` does not know.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def install_shim():
    import pathlib
    import re
    import shutil

    import ansible_test

    source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    version = re.search(r"pip='([0-9.]+)'", source.read_text()).group(1)
    cache = pathlib.Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copy(__file__, cache / ("get_pip_%s.py" % version.replace(".", "_")))


if sys.argv[1:] == ["--install-shim"]:
    install_shim()
    sys.exit(0)

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null in our environment; the real install needs the
# machine's pip configuration (index, certificates) back.
env = {k: v for k, v in os.environ.items() if k not in ("PIP_CONFIG_FILE", "ENSUREPIP_OPTIONS")}
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet"] + args, env=env))
