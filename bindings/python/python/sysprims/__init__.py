"""sysprims: process primitives with a psutil-familiar API."""

from ._sysprims import __version__

__all__ = ["__version__"]
