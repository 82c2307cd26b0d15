"""Retention: removing versions while keeping every other version exact; and removing a
whole history that was damaged on disk while keeping the hotel's own records (new_history)."""
