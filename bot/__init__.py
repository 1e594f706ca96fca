"""The Hai Phong policy assistant: conversation, answering core and chat channels."""
