"""Shared test settings: hypothesis runs a fixed, derandomized set of examples so CI is repeatable."""

from hypothesis import settings

settings.register_profile(
    "repeatable",
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,  # writes nothing
)
settings.load_profile("repeatable")
