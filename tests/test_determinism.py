"""nbval passes again and again, with the lessons in any order.

`make test` runs nbval once in the usual order; this test runs it NBVAL_REPEATS more times (default 4,
so 5 consecutive runs in all), each time with the lessons in a different order (reversed, then seeded
shuffles). A lesson whose output depended on the run, on the machine's state or on another lesson having
run first would fail here.
"""

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
REPEATS = int(os.environ.get("NBVAL_REPEATS", "4"))


def orders():
    yield list(reversed(LESSONS))
    rng = random.Random(0)
    for _ in range(REPEATS - 1):
        order = LESSONS.copy()
        rng.shuffle(order)
        yield order


@pytest.mark.parametrize("order", list(orders())[:REPEATS], ids=lambda o: "-".join(p.name[:2] for p in o))
def test_nbval_passes_with_the_lessons_in_this_order(order):
    cmd = [sys.executable, "-m", "pytest", "-q", "--nbval", "--nbval-current-env",
           "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", *map(str, order)]
    env = dict(os.environ, PYTHONHASHSEED="0")
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
