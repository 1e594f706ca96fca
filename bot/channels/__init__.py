"""Chat channels: thin adapters that turn platform events into Conversation calls and render Replies."""
