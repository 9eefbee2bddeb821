"""Settings, the entry point, the channel adapters and the ASGI app."""
