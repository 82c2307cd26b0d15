"""Formats: JSON values, canonical text, per-record module text and hashes, framing and format versions."""
