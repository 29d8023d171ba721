"""Builds the one compiled module: ``mockserver/writer.py`` through Cython (see its docstring).

Everything else is declared in ``pyproject.toml``. The extension is optional: without a C
compiler the install still succeeds and ``mockserver.writer`` runs as plain Python (slower,
byte-identical). ``MOCKSERVER_PURE_PYTHON=1`` skips compiling on purpose.

Next to the compiled module goes ``writer.digest``, the SHA-256 of the sources it was compiled
from; ``mockserver.dataset`` runs the source instead of a compiled module whose digest no longer
matches (an edited editable install).
"""

import hashlib
import os
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent
SOURCES = ("writer.py", "writer.pxd")


def source_digest(folder: Path) -> str:
    """SHA-256 of the writer's sources (``mockserver.dataset.writer_digest`` computes the same)."""
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


ext_modules = []
if os.environ.get("MOCKSERVER_PURE_PYTHON", "") in ("", "0"):
    from Cython.Build import cythonize

    package = HERE / "mockserver"
    (package / "writer.digest").write_text(source_digest(package) + "\n")
    ext_modules = cythonize(
        [Extension("mockserver.writer", ["mockserver/writer.py"], optional=True)],
        compiler_directives={"language_level": 3, "annotation_typing": False},
    )

setup(ext_modules=ext_modules)
