"""SCIM 2.0 provisioning of professionals by their organisation's directory."""
