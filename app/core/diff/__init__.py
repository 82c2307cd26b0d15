"""Diff: what changed between two values (ChangeLog, RFC 6902 patches), and applying patches."""
