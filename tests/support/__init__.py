"""Helpers only the test modules use (what the benchmarks need too is in webapp/testing/); fixtures
stay in the conftest.py files."""
