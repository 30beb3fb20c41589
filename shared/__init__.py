"""The library every deployed function stands on."""
