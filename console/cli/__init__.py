"""The ``rollbook`` command line. Each command module imports its heavy dependencies lazily."""
