"""The book's benchmark suite: `make bench` runs it, `python -m bench.run --tiny` proves the harness."""
