"""Invoice PDFs: rendering (`render`) and the after-commit task (`tasks`); stored through `core.documents`."""
