"""The code the chapters define, exported from their notebooks for reuse.

Each module ``chNN_name.py`` is generated from ``chapters/NN_name.ipynb`` (its cells marked
``#| export``) by ``tools/export_chapters.py``: edit the notebook, never the module. Tests,
benchmarks and later chapters import from here; the plumbing the chapters share lives in
``utils``.
"""
