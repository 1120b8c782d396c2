"""Command line of the project: `python -m cli ...` (or `ccpipe ...`)."""
