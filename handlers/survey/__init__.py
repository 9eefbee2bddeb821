"""The survey engine: a declarative definition, a session, and the step that moves one through the other."""
