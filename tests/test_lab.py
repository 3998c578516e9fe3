"""`make lab` is safe on a shared network: loopback only, token login on.

The test starts the server exactly as `make lab` does (on a free port, without a browser), lists the
lessons through Jupyter's REST API with the token, checks it is refused without the token and not
reachable on another interface, and stops it.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, token=None):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, None


def other_address():
    """A non-loopback address of this machine, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # UDP connect sends nothing; it only picks a route
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.fixture
def lab():
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_TOKEN=token)
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_PORT={port}", "LAB_OPTS=--no-browser"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                get(f"{base}/api/status", token)
                break
            except (TimeoutError, urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, "make lab exited before serving"
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 60 s")
        yield base, port, token
    finally:
        stop(proc)


def stop(proc):
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:  # already gone
            pass
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def test_lab_lists_the_lessons_with_its_token_and_refuses_without(lab):
    base, port, token = lab
    status, listing = get(f"{base}/api/contents/", token)
    assert status == 200
    names = {item["name"] for item in listing["content"]}
    assert {"01_numpy_gradient_descent.ipynb", "03_torch_autograd.ipynb", "04_nn_linear_sgd.ipynb"} <= names
    assert get(f"{base}/api/contents/")[0] == 403
    assert get(f"{base}/api/contents/", "wrong-token")[0] == 403


def test_lab_listens_on_loopback_only(lab):
    _, port, _ = lab
    address = other_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to try")
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex((address, port)) != 0, f"JupyterLab is reachable on {address}:{port}"


def test_makefile_never_disables_the_token():
    makefile = (ROOT / "Makefile").read_text()
    assert "--ServerApp.ip=127.0.0.1" in makefile
    for unsafe in ("token=''", 'token=""', "--ServerApp.token= ", "disable_check_xsrf", "--ip=0.0.0.0"):
        assert unsafe not in makefile
