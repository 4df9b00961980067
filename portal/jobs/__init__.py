"""Background work that several processes on several hosts share exactly once."""
