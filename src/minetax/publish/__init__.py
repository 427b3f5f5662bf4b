"""Publish: the read-only snapshot, the sandboxed query on it, run records and the run log."""
