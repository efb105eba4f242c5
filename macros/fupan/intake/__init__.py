"""Real shop exports in: reading, declarations, presets, derivation."""
