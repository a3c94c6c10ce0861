"""Helpers shared by the tests: builders, fakes, servers and corpus access.

Test modules import what they share from here, never from one another; fixtures stay in the
conftest.py files (tests/conftest.py, tests/integration/conftest.py and the stages' folders).
"""
