"""The PostgreSQL and SQLite adapters (``test_adapters.py``); the hand-made dataset in ``hand.py``,
the fixtures in ``conftest.py``."""
