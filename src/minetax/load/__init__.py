"""Load: raw store (content-addressed copies), staging, the readings key/overlap pass, segments, merge into core."""
