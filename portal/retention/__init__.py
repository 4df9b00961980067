"""Retention: how long case data is kept, the board's confirmation, legal holds, the daily job."""
