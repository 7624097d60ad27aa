"""Helpers the test modules and the benchmarks share; fixtures stay in the conftest.py files."""
