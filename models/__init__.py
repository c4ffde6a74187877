"""Delay-risk models (issue 3): features, training, evaluation, registry, scoring.

Depends on ``schemas`` only, never on ``streams``.
"""
