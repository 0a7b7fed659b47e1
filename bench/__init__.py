"""The benchmark harness: our design against the tutorial's (bench/anchors/) and this machine's limits.

`python -m bench` (or `make bench`) runs every measurement, prints one table, writes
`results.json` and `chart.png`, and rewrites the README's benchmark block. See bench/README.md.
"""
