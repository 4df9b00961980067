"""An organisation's pupil and family register, and its CSV import."""
