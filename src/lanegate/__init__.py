"""Lanegate: a self-hosted data-residency gateway for AI traffic."""

__version__ = "0.1.0"
__all__ = ["__version__"]
