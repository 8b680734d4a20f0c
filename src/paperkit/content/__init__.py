"""Content: the models, YAML reading with file:line marks, and validation of what the handbook says."""
