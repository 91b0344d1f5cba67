"""Real servers for the tests: started on free loopback ports, stopped afterwards.

Import the pieces from here; ``tests/conftest.py`` turns them into pytest fixtures.
"""
