"""The kernel below every app (STYLE rule 12): money, error codes, minor-unit parsing, JSON helpers,
after-commit queueing, document storage and signed links, database helpers.

It imports Django and third-party libraries only, never a project app (tests/test_import_graph.py),
and whatever touches a Django internal lives here, pinned by tests/test_core_internals.py.
"""
