"""The one render path: template → HTML → WeasyPrint → PDF, its worker processes and the PDF post-processing."""
