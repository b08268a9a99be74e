"""Helpers of the tests: stores, computed zones, the command line, HTTP checks, the browser.

Fixtures stay in the ``conftest.py`` modules; what they and the tests share lives here.
"""
