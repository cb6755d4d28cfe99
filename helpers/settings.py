"""The course's settings, each stated once: every notebook, check, hint, benchmark and test reads
them from here instead of typing the number again (tests/test_code_shape.py fails on a repetition).

A learner sees them too: the solutions import ``WARMUP_FRACTION``, ``BASE_LR``, ``TEMPLATE_LR`` and
``TARGET_ACCURACY`` by name, so changing one here changes the notebook, its checks and its hints
together. The data set's own facts (its recipe, split sizes, batch size and steps per epoch) live
in :mod:`helpers.data`.
"""

from __future__ import annotations

import os

# Training length of every full run (a grader's quick mode lowers it: helpers.training.course_epochs).
COURSE_EPOCHS = 100
# The folder training logs go to by default, relative to the working directory (beside the notebook).
LOG_DIR = "logs"
# The environment variable through which a grader's quick mode shortens every training.
QUICK_EPOCHS_ENV = "KIT_QUICK_EPOCHS"
# The seed the course's trainings start from (initial weights, batch order).
COURSE_SEED = 123
# Exercise 1: the warmup lasts this fraction of training, as a whole number of epochs
# (int(WARMUP_FRACTION * num_epochs)); then cosine annealing to 0.
WARMUP_FRACTION = 0.25
# The fewest epochs whose warmup is one whole epoch: shorter runs have no warmup to judge, and a
# grader's quick mode trains this long so each lesson keeps its shape.
QUICK_EPOCHS = round(1 / WARMUP_FRACTION)
# Notebook 00 (warmup strategies): its WARMUP_EPOCHS, the length its lr_lambda blanks are judged at.
DEMO_WARMUP_EPOCHS = 5
# Exercise 1: SGD's base learning rate (the peak of the warmup-cosine schedule).
BASE_LR = 0.1
# Exercise 2: the course template's learning rate (Adam, then AdamW).
TEMPLATE_LR = 0.005
# Both exercises: the test accuracy a full-length run must reach.
TARGET_ACCURACY = 0.885


def quick_epochs() -> int | None:
    """The training length a grader's quick mode sets through ``QUICK_EPOCHS_ENV``, None when it is
    unset: the one reading of that variable, for training lengths and for the checks' context alike."""
    quick = os.environ.get(QUICK_EPOCHS_ENV)
    if quick is None:
        return None
    if not quick.isdigit() or int(quick) < 1:
        raise ValueError(f"{QUICK_EPOCHS_ENV} must be a positive whole number, got {quick!r}")
    return int(quick)


def facts() -> dict[str, object]:
    """Every setting by name (what hint texts may refer to as ``{WARMUP_FRACTION:.0%}``)."""
    return {name: value for name, value in globals().items() if name.isupper()}
