"""Portal sync: the index follows the sources named in KNOWLEDGE_DIR/sources.yaml."""

from indexer.sync.run import SyncBusy, SyncSummary, last_summary, sync
from indexer.sync.sources import Source, SourcesError, load_sources

__all__ = ["Source", "SourcesError", "SyncBusy", "SyncSummary", "last_summary", "load_sources", "sync"]
