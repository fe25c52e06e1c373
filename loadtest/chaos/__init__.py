"""`make chaos`: one fault at a time under load (python -m loadtest.chaos; see __main__.py)."""
