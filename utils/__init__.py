"""Shared code of the book *RNNs, executable*.

Modules: ``data`` (verified loaders of the real datasets), ``profile`` (smoke/full
sizes), ``repro`` (seeding), ``widgets`` (kernel-free slider views), ``metrics``
(headline figures), ``freshness`` (executing notebooks and checking their outputs),
``paths``, ``training`` (timed fits) and one module per chapter for the code the chapter
defines.
"""

__version__ = "0.1.0"
