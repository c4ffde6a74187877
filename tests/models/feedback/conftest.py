from __future__ import annotations

import pytest

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer


@pytest.fixture(scope="module")
def analyzer() -> FeedbackAnalyzer:
    """The rules-only analyzer the rule, aspect, topic and sentiment tests read with."""
    return FeedbackAnalyzer()
