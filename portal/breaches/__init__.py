"""The data-breach register: reports, the FG's assessment, scope from the access log."""
