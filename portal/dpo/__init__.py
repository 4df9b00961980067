"""The FG (functionaris gegevensbescherming) of each organisation and what they oversee."""
