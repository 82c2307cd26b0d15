"""Restore: planning what a restore writes (full, selective, merge, revert), before it is applied."""
