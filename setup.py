"""Builds the one compiled module: ``mockserver/writer.py`` through Cython (see its docstring).

Everything else is declared in ``pyproject.toml``. The extension is optional: without a C
compiler the install still succeeds and ``mockserver.writer`` runs as plain Python (slower,
byte-identical). ``MOCKSERVER_PURE_PYTHON=1`` skips compiling on purpose.
"""

import os

from setuptools import Extension, setup

ext_modules = []
if os.environ.get("MOCKSERVER_PURE_PYTHON", "") in ("", "0"):
    from Cython.Build import cythonize

    ext_modules = cythonize(
        [Extension("mockserver.writer", ["mockserver/writer.py"], optional=True)],
        compiler_directives={"language_level": 3, "annotation_typing": False},
    )

setup(ext_modules=ext_modules)
