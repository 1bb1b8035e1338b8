"""Run folders: the crash-safe run log and the report drawn from it."""
