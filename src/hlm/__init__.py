"""hlm: the analysis package behind the book "Mixed Models with R: from hierarchical to mixed"."""

__version__ = "0.1.0"
