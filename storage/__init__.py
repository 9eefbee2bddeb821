"""Persistence: SQLAlchemy 2 async models, the repository the bot writes through, Alembic migrations."""
