"""The `minetax` command line: parses, calls flows or the library, prints. Nothing imports it."""
