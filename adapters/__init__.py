"""Warehouse adapters: the contract in ``base`` and the built-in engines."""
