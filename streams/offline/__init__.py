"""Offline work on recorded events: replay, and the train, score, evaluate and promote commands."""
