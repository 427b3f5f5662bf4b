"""Validate: Great Expectations suites evaluated in DuckDB or by Great Expectations itself; results."""
