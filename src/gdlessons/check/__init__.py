"""Self-checks for the exercises: kind messages, specific hints, never a traceback.

Each exercise notebook ends an exercise with a call such as ``check.ex01_1(my_gradient)``. The
check runs the student's answer on hidden data, generated from fixed seeds (never only the
lesson's toy data), compares it with the package's own math (``mse_gradient``, ``train_*``,
``lipschitz_constant``, or torch) and prints one line:

- ``✓ Exercise 1.1: …`` when the answer is right, saying what was checked;
- ``✗ Exercise 1.1: not yet. …`` with what is wrong (a factor n? the sign? the shape? the bias?)
  and a hint, when it is wrong, also when the student's code raised an exception;
- ``… Exercise 1.1: not answered yet …`` while the starter still raises ``NotImplementedError``.

A check also returns a ``Verdict`` for grading: truthy iff the answer passed, with the points
earned out of ``POINTS[name]``. A notebook shows nothing more for it than the printed line. Only a
bug in a check itself raises, so that CI (which executes the exercise notebooks) still fails on a
real error.

Each check is declared, not hand-written: a ``Problem`` (module ``problem``) lists its hidden
cases, its reference, and the classic mistakes with their hints; ``lesson01`` … ``lesson09`` hold
the declarations, ``core`` what they share. ``check.ex01_1.problem`` is the declaration.

The lessons' prediction checkpoints, ``check.predict01_a(my_prediction)``, are declared the same
way, beside each lesson's exercises (module ``predict``): a learner's number before the cell that
shows it, one kind line, no points. Lesson 09, the loss-curve clinic, is made of them: a word from
``gdlessons.clinic.CAUSES`` per broken run.

>>> import numpy as np
>>> verdict = ex01_1(lambda X, y, y_hat: float(np.mean(2 * X * (y_hat - y))))
✓ Exercise 1.1: right! ...
>>> verdict, bool(verdict), POINTS["ex01_1"]
(<Verdict 1.1: pass, 1/1 point>, True, 1)
"""

from gdlessons.check.core import POINTS, Verdict
from gdlessons.check.lesson01 import (
    ex01_1,
    ex01_2,
    ex01_3,
    ex01_4,
    ex01_5,
    predict01_a,
    predict01_b,
)
from gdlessons.check.lesson02 import (
    ex02_1,
    ex02_2,
    ex02_3,
    ex02_4,
    predict02_a,
    predict02_b,
    predict02_c,
)
from gdlessons.check.lesson03 import ex03_1, ex03_2, ex03_3, ex03_4, predict03_a, predict03_b
from gdlessons.check.lesson04 import (
    ex04_1,
    ex04_2,
    ex04_3,
    ex04_4,
    ex04_5,
    predict04_a,
    predict04_b,
)
from gdlessons.check.lesson05 import ex05_1, ex05_2, ex05_3, ex05_4, predict05_a, predict05_b
from gdlessons.check.lesson06 import ex06_1, ex06_2, ex06_3, ex06_4, predict06_a, predict06_b
from gdlessons.check.lesson07 import ex07_1, ex07_2, ex07_3, ex07_4, predict07_a, predict07_b
from gdlessons.check.lesson08 import ex08_1, ex08_2, ex08_3, predict08_a, predict08_b
from gdlessons.check.lesson09 import (
    ex09_1,
    ex09_2,
    ex09_3,
    predict09_a,
    predict09_b,
    predict09_c,
    predict09_d,
    predict09_e,
    predict09_f,
    predict09_g,
    predict09_h,
    predict09_i,
)

__all__ = ["POINTS", "Verdict"]
__all__ += ["ex01_1", "ex01_2", "ex01_3", "ex01_4", "ex01_5", "ex02_1", "ex02_2", "ex02_3"]
__all__ += ["ex02_4", "ex03_1", "ex03_2", "ex03_3", "ex03_4", "ex04_1", "ex04_2", "ex04_3"]
__all__ += ["ex04_4", "ex04_5", "ex05_1", "ex05_2", "ex05_3", "ex05_4", "ex06_1", "ex06_2"]
__all__ += ["ex06_3", "ex06_4", "ex07_1", "ex07_2", "ex07_3", "ex07_4", "ex08_1", "ex08_2"]
__all__ += ["ex08_3", "ex09_1", "ex09_2", "ex09_3"]
# The lessons' prediction checkpoints (module predict): asked before the cell that shows the answer.
__all__ += [
    "predict01_a",
    "predict01_b",
    "predict02_a",
    "predict02_b",
    "predict02_c",
    "predict03_a",
]
__all__ += [
    "predict03_b",
    "predict04_a",
    "predict04_b",
    "predict05_a",
    "predict05_b",
    "predict06_a",
]
__all__ += [
    "predict06_b",
    "predict07_a",
    "predict07_b",
    "predict08_a",
    "predict08_b",
    "predict09_a",
]
__all__ += [
    "predict09_b",
    "predict09_c",
    "predict09_d",
    "predict09_e",
    "predict09_f",
    "predict09_g",
]
__all__ += ["predict09_h", "predict09_i"]
