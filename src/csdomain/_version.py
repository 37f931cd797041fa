"""The version of csdomain, written in this one place.

The package metadata reads it through hatch (``[tool.hatch.version]`` in pyproject.toml),
``csdomain.__version__``, the docs and the report's footer import it from here.
"""

__version__ = "0.1.0"
