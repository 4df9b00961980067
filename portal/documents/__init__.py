"""Minutes and attachments of a case, stored encrypted (see docs/architecture.md)."""
