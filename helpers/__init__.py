"""Shared plumbing for the course notebooks: data, model, training, plots and checks.

Importing the package installs narrow warning filters (see :mod:`helpers.quiet`) so that
learners' notebooks show their own results, not third-party deprecation noise.
"""

from helpers.quiet import install_filters as _install_filters

_install_filters()

__all__: list[str] = []
