"""Survey system: a daily JSON-lines export of the responses received that local day."""
