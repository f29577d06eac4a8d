"""The issue text quality writes for a failed value measured on site (S13, S25)."""

from services.quality.issues.domain import failed_value_description


def test_the_issue_names_the_item_the_value_and_the_limits():
    assert failed_value_description(task="Breaker tests", item_id="r1", item_text="Main-circuit resistance",
                                    value=135.0, unit="µΩ", lower=0, upper=120) == (
        "Check-sheet item r1 (Main-circuit resistance) of task 'Breaker tests' measured 135.0 µΩ, "
        "outside its acceptance limits (at least 0 and at most 120).")
    assert failed_value_description(task=None, item_id="ir", item_text=None, value=400.0, unit="MΩ", lower=1000,
                                    upper=None) == (
        "Check-sheet item ir measured 400.0 MΩ, outside its acceptance limits (at least 1000).")
    assert failed_value_description(task="T", item_id="y1", item_text="Interlocks work", value=False, unit=None,
                                    lower=None, upper=None) == (
        "Check-sheet item y1 (Interlocks work) of task 'T' answered no on site, which fails it.")
