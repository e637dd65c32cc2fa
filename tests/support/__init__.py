"""This project's own parts of the test run: its paths, the JSONPlaceholder recordings, the
seeded databases, and the page set-up that hands them to every page (`pages.py`)."""
