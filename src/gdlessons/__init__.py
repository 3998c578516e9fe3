"""gdlessons: the helpers behind a step-by-step series on gradient descent.

Every helper takes all of its state as arguments (``forward(X, w, b=0.0)``, never a global ``w``),
checks its inputs with a clear message, and seeds nothing at import time.

Submodules, imported where they are needed so that ``import gdlessons`` stays light:
``gdlessons.plots`` (figures; matplotlib), ``gdlessons.modules`` (``LinearRegression``,
``train_minibatch``; torch), ``gdlessons.parallel`` (data-parallel training; torch.distributed),
``gdlessons.ddp_train`` (the ``torchrun`` script) and ``gdlessons.check`` (the exercises'
self-checks, imported here).
"""

from gdlessons import check, numpy_gd
from gdlessons._validate import (
    require_gradient_args,
    require_model_args,
    require_same_shape,
    validated,
)
from gdlessons.data import make_linear_data, make_wave_data, toy_data
from gdlessons.gradcheck import numerical_gradient, rel_error
from gdlessons.history import DivergenceError, History
from gdlessons.numpy_gd import lipschitz_constant
from gdlessons.train import train_autograd, train_nn, train_numpy
from gdlessons.versions import versions, warn_if_not_pinned

# The formulas of numpy_gd with the student's arguments checked first (a clear message instead of
# a silent wrong number); inspect.getsource still shows the formula alone.
forward = validated(numpy_gd.forward, require_model_args)
mse_loss = validated(numpy_gd.mse_loss, require_same_shape)
mse_gradient = validated(numpy_gd.mse_gradient, require_gradient_args)

__all__ = [
    "DivergenceError",
    "History",
    "check",
    "forward",
    "lipschitz_constant",
    "make_linear_data",
    "make_wave_data",
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
