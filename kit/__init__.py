"""The course kit's tools for instructors and maintainers (``kit`` command).

The learner's kernel imports only :mod:`helpers`; this package imports ``helpers`` (to build,
execute and grade the notebooks), never the other way round.
"""
