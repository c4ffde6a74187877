"""Feedback text engine (issue 10): language, sentiment, delivery-vs-product aspects and topics.

Offline and pure: no network, no Kafka, no clock. ``FeedbackAnalyzer`` is the entry point.
"""
