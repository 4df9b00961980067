"""The staff lifecycle: memberships that end, and what ends with them."""
