"""Self-checks for the exercises: kind messages, specific hints, never a traceback.

An exercise notebook ends an exercise with a call such as ``check.ex01_1(my_gradient)``: it runs
the answer on hidden data, compares it with the package's own math or torch, and prints one line
(``✓ … right!``, ``✗ … not yet.`` with what is wrong and a hint, or ``… not answered yet``). It
returns a ``Verdict`` for grading, worth ``POINTS[name]`` when it passes; only a bug in a check
itself raises. Each check is declared (module ``problem``; ``check.ex01_1.problem``) in
``lesson01`` … ``lesson09``, beside the lessons' prediction checkpoints (module ``predict``);
the runs and formulas several lessons compare with are in ``cases``.

>>> import numpy as np
>>> verdict = ex01_1(lambda X, y, y_hat: float(np.mean(2 * X * (y_hat - y))))
✓ Exercise 1.1: right! ...
>>> verdict, bool(verdict), POINTS["ex01_1"]
(<Verdict 1.1: pass, 1/1 point>, True, 1)
"""

from gdlessons.check import predict
from gdlessons.check.core import POINTS, Verdict
from gdlessons.check.lesson01 import *  # noqa: F403 (each lesson's checks, by its __all__)
from gdlessons.check.lesson02 import *  # noqa: F403
from gdlessons.check.lesson03 import *  # noqa: F403
from gdlessons.check.lesson04 import *  # noqa: F403
from gdlessons.check.lesson05 import *  # noqa: F403
from gdlessons.check.lesson06 import *  # noqa: F403
from gdlessons.check.lesson07 import *  # noqa: F403
from gdlessons.check.lesson08 import *  # noqa: F403
from gdlessons.check.lesson09 import *  # noqa: F403

# Every exercise's check and every checkpoint, in the order the lessons declared them.
__all__ = ["POINTS", "Verdict", *POINTS, *predict.PREDICTIONS]
