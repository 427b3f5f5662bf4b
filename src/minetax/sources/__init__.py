"""Sources: the input datasets (columns, types, units), the HTTP network source, the synthetic sample."""
