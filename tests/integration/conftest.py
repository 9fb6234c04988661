"""The real-server fixtures live in ``tests/integration/fixtures.py``, registered for the
whole suite in ``tests/conftest.py`` so ``tests/contract`` shares the same session stack."""
