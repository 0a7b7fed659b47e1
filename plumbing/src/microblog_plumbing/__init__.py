"""What every Microblog process stands on, written once so the services cannot drift apart:
reading settings and saying what is wrong with them, logging, stopping on signals, backing off,
serving probes, and reading the times operators type.

It knows nothing of events (that is `microblog_contracts`) nor of either service. Import the
module you need; nothing here connects, reads the environment or opens a file at import time.
"""
