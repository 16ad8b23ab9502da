"""pytest collects the executed notebooks here (nbval), never a ``.py``: importing a notebook
source would run the notebook, and ``build_notebooks.py`` is a script."""

collect_ignore_glob = ["*.py"]
