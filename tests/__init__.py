"""The kit's own tests: strategies, planted bugs, plugin and CLI."""
