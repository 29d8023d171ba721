"""The package version, in one place (the package metadata reads the same number from pyproject.toml)."""

__version__ = "0.1.0"
