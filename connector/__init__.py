"""Battery carbon-footprint traceability connector."""

__version__ = "0.1.0"
