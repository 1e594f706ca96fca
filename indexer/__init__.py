"""Indexer: documents -> chunks -> embeddings -> Chroma, and the search API the bot calls."""
