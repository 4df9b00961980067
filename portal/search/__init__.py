"""Search across the cases a person may see, without plaintext in the database."""
