"""gdlessons: the helpers behind a step-by-step series on gradient descent.

Every helper takes all of its state as arguments (``forward(X, w, b=0.0)``, never a global ``w``),
checks its inputs with a clear message, and seeds nothing at import time.

Submodules, imported where they are needed so that ``import gdlessons`` stays light:
``gdlessons.plots`` (figures; matplotlib), ``gdlessons.modules`` (``LinearRegression``,
``train_minibatch``; torch), ``gdlessons.parallel`` (data-parallel training; torch.distributed),
``gdlessons.ddp_train`` (the ``torchrun`` script) and ``gdlessons.check`` (the exercises'
self-checks, imported here).
"""

from gdlessons import check
from gdlessons.data import make_linear_data, toy_data
from gdlessons.gradcheck import numerical_gradient, rel_error
from gdlessons.history import DivergenceError, History
from gdlessons.numpy_gd import forward, lipschitz_constant, mse_gradient, mse_loss
from gdlessons.train import train_autograd, train_nn, train_numpy
from gdlessons.versions import versions, warn_if_not_pinned

__all__ = [
    "DivergenceError",
    "History",
    "check",
    "forward",
    "lipschitz_constant",
    "make_linear_data",
    "mse_gradient",
    "mse_loss",
    "numerical_gradient",
    "rel_error",
    "toy_data",
    "train_autograd",
    "train_nn",
    "train_numpy",
    "versions",
]
__version__ = "0.1.0"
warn_if_not_pinned()  # one line on stderr when torch or numpy is not what the outputs came from
