"""Indexer: documents -> chunks -> embeddings -> Chroma, and the search API the bot calls."""

import os

# Read by numpy's OpenBLAS when it loads, so it is set here, before any module imports numpy. After
# a matrix product OpenBLAS's helper threads wait for the next one, spinning, for 2**N cycles
# (default N = 28, about a tenth of a second). A batched forward pass of the embedding model
# alternates products with element-wise steps that run on one thread, so with the default the
# helper spins through every such step and takes a core from the answers and the HTTP server. With
# N = 20 (about 0.4 ms) it sleeps through them. Measured with benchmarks/throughput.py on 2 cores:
# the bot used 1.5 cores in the end-to-end burst instead of 1.8 for about the same answers/s (seven
# runs at 20: 43-61/s, median 48; two at the default: 49 and 50), so the rest of the machine keeps
# the difference.
# An OPENBLAS_THREAD_TIMEOUT already in the environment wins.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")
