"""The tracking page's progress bar: how far each situation and its scans got the parcel."""

from __future__ import annotations

from parcelwatch.streams.core.journey_steps import StepState, journey_steps

D, C, P, T = StepState.DONE, StepState.CURRENT, StepState.PROBLEM, StepState.TODO


def shown(situation: str, *statuses: str) -> list[tuple[str, StepState]]:
    return [(step.name, step.state) for step in journey_steps(situation, statuses)]


def test_the_furthest_scan_sets_the_current_step_whatever_came_last():
    assert shown("in_transit", "picked_up", "out_for_delivery", "in_transit") == [
        ("ordered", D),
        ("shipped", D),
        ("in_transit", D),
        ("out_for_delivery", C),
        ("delivered", T),
    ]


def test_a_problem_takes_the_place_of_the_step_the_parcel_did_not_reach():
    assert shown("exception", "picked_up", "in_transit", "exception") == [
        ("ordered", D),
        ("shipped", D),
        ("in_transit", D),
        ("exception", P),
        ("delivered", T),
    ]
    # The carrier has it: shipped, then the exception (never "ordered, lost, in transit").
    assert shown("exception", "exception")[1:3] == [("shipped", D), ("exception", P)]
    assert shown("lost", "picked_up") == [
        ("ordered", D),
        ("shipped", D),
        ("lost", P),
        ("out_for_delivery", T),
        ("delivered", T),
    ]
    assert shown("attempt_failed", "attempt_failed")[3:] == [
        ("out_for_delivery", D),
        ("attempt_failed", P),
    ]
    assert shown("lost", "in_transit")[3] == ("lost", P)


def test_returns_and_cancellations_have_their_own_paths():
    assert shown("returning", "returning_to_sender") == [
        ("ordered", D),
        ("shipped", D),
        ("returning", C),
        ("returned", T),
    ]
    assert shown("returned")[-1] == ("returned", C)
    assert shown("cancelled", "in_transit") == [("ordered", D), ("cancelled", P)]


def test_pickup_and_delivery_end_the_forward_path():
    assert shown("available_for_pickup", "available_for_pickup")[3] == ("available_for_pickup", C)
    assert {state for _, state in shown("delivered")} == {D}


def test_statuses_this_build_does_not_know_are_ignored():
    assert shown("in_transit", "teleported", "in_transit") == shown("in_transit", "in_transit")
