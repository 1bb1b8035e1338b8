"""What every stage shares: validation, results, formulas, files, memory, progress."""
