"""Participatory-budget ideas: proposing one (/idea) and browsing and supporting approved ones (/ideas)."""
