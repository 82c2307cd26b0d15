"""Retention: removing versions while keeping every other version exact."""
