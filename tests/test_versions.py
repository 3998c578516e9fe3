"""gdlessons.versions(): what runs here; one line, once, when it is not what the outputs came from.

The versions are faked by patching ``importlib.metadata.version`` (what versions() reads): in this
process for the message, and in a fresh interpreter for what ``import gdlessons`` prints.
"""

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gdlessons import versions
from gdlessons.versions import NOTE_ENV, PINNED, mismatch_message

NOT_INSTALLED = "not installed"

ROOT = Path(__file__).resolve().parents[1]


def fake_metadata(monkeypatch, **fake):
    """Make importlib.metadata report ``fake`` versions; None means 'not installed'."""
    real = importlib.metadata.version

    def version(name):
        if name not in fake:
            return real(name)
        if fake[name] is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return fake[name]

    monkeypatch.setattr(importlib.metadata, "version", version)


def import_gdlessons(noted=None, **fake):
    """stderr and the torch-imported flag of a fresh ``import gdlessons`` with faked versions.

    ``noted``: what a parent process left in the NOTE_ENV variable (None: nothing).
    """
    env = {k: v for k, v in os.environ.items() if k != NOTE_ENV}
    env.update({} if noted is None else {NOTE_ENV: noted})
    script = (
        "import importlib.metadata as m, sys\n"
        f"fake, real = {fake!r}, m.version\n"
        "def version(name):\n"
        "    if name in fake and fake[name] is None:\n"
        "        raise m.PackageNotFoundError(name)\n"
        "    return fake[name] if name in fake else real(name)\n"
        "m.version = version\n"
        "import gdlessons, gdlessons.check\n"
        "import importlib; importlib.reload(sys.modules['gdlessons'])  # a second import\n"
        "sys.modules['gdlessons.versions'].warn_if_not_pinned()  # and a direct call\n"
        "print('torch' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return run.stderr, run.stdout.strip() == "True"


def test_versions_lists_python_numpy_torch_matplotlib_in_order_as_strings():
    found = versions()
    assert list(found) == ["python", "numpy", "torch", "matplotlib"]
    assert all(isinstance(v, str) and v for v in found.values())
    assert found["python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")


def test_versions_reads_the_installed_metadata_and_names_a_missing_package(monkeypatch):
    fake_metadata(monkeypatch, numpy="1.24.0", torch=None, matplotlib="3.7.0")
    assert versions() == {
        "python": versions()["python"],
        "numpy": "1.24.0",
        "torch": NOT_INSTALLED,
        "matplotlib": "3.7.0",
    }


def test_pinned_is_exactly_what_requirements_txt_pins():
    pins = dict(
        re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip()).groups()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    )
    assert dict(PINNED) == {name: pins[name] for name in ("numpy", "torch", "matplotlib")}


@pytest.mark.parametrize(
    "fake",
    [
        {"torch": PINNED["torch"], "numpy": PINNED["numpy"]},
        {"torch": PINNED["torch"] + "+cpu", "numpy": PINNED["numpy"]},
        {"torch": None, "numpy": PINNED["numpy"]},
        {"torch": PINNED["torch"], "numpy": PINNED["numpy"], "matplotlib": "3.7.0"},
    ],
    ids=["pinned", "local_cpu_build", "no_torch", "other_matplotlib"],
)
def test_the_pinned_torch_and_numpy_give_no_message(monkeypatch, fake):
    fake_metadata(monkeypatch, **fake)
    assert mismatch_message() is None


def test_the_message_names_the_pins_and_only_what_differs(monkeypatch):
    fake_metadata(monkeypatch, torch="2.14.1", numpy=PINNED["numpy"])
    assert mismatch_message() == (
        f"gdlessons: stored outputs were made with torch {PINNED['torch']} and numpy "
        f"{PINNED['numpy']}; you have torch 2.14.1 - last digits may differ "
        "(run gdlessons.versions())"
    )
    fake_metadata(monkeypatch, torch=None, numpy="1.24.0")
    assert "you have numpy 1.24.0 - " in mismatch_message()


def test_import_prints_one_line_once_when_torch_and_numpy_differ():
    stderr, imported_torch = import_gdlessons(torch="2.14.1", numpy="1.24.0")
    assert stderr.count("\n") == 1 and stderr.endswith("\n"), stderr
    assert stderr.startswith("gdlessons: stored outputs were made with torch")
    assert "you have torch 2.14.1 and numpy 1.24.0 - last digits may differ" in stderr
    assert not imported_torch


def test_import_is_silent_with_the_pinned_versions_and_never_imports_torch():
    assert import_gdlessons(torch=PINNED["torch"], numpy=PINNED["numpy"]) == ("", False)
    assert import_gdlessons(torch=None, numpy=PINNED["numpy"]) == ("", False)


def test_a_worker_whose_parent_printed_the_same_line_stays_silent(monkeypatch):
    fake = {"torch": "2.14.1", "numpy": "1.24.0"}
    fake_metadata(monkeypatch, **fake)
    assert import_gdlessons(noted=mismatch_message(), **fake) == ("", False)
    stderr, _ = import_gdlessons(noted=mismatch_message().replace("2.14.1", "2.14.0"), **fake)
    assert "you have torch 2.14.1 and numpy 1.24.0" in stderr  # other versions: it says so
