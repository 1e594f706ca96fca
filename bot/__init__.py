"""The Hai Phong policy assistant: conversation, answering core and chat channels."""

import indexer  # noqa: F401  (sets numpy's BLAS thread policy before numpy is first imported)
