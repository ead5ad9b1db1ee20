"""The pieces of the platform, one ComponentResource per module."""
