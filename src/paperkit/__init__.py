"""paperkit: structured teaching content (YAML) to print-ready PDFs."""

__version__ = "0.1.0"
