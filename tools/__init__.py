"""Maintenance scripts of the book; importable for their tests (python tools/NAME.py runs one)."""
