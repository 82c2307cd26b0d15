"""Capture: the journal of PMS writes and what the engine does with it next."""
