"""Errors in logs without their messages: an exception's words may quote the data it choked on
(a tracking number in a KeyError, a customer id in a ValueError), and logs carry no such data."""

from __future__ import annotations

import traceback


def describe(error: BaseException) -> str:
    """The error's class and the class of its cause, never their arguments."""
    cause = error.__cause__
    name = type(error).__name__
    return f"{name} caused by {type(cause).__name__}" if cause is not None else name


def stack(error: BaseException) -> str:
    """Where it happened: the frames of the traceback, without the exception's message."""
    return "".join(traceback.format_tb(error.__traceback__)).rstrip()
