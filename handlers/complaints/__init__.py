"""Service complaints: the conversation, states, tracking numbers and what the public may see."""
