"""Question kinds and the bank: the `Kind` protocol, one module per kind, the registry, checks and the lint."""
