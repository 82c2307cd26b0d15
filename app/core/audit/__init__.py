"""Audit: the record of every action on the backup system itself (restores, for now)."""
