"""Benchmarks of callslots against plain loops and peers: ``python -m benchmarks``."""
