"""The corruptions that copy the user's words where the tool wants another value."""

from __future__ import annotations

import random

from tests.fakes import make_record
from train.corruptions import CORRUPTIONS, Situation
from train.scoring import score_candidate
from train.surface_forms import surface_forms


def apply(name: str, record, seed: int = 0):
    return CORRUPTIONS[name](Situation.of(record), random.Random(seed))


def changed(record, proposal) -> dict[str, tuple]:
    gt = record.ground_truth().calls
    return {k: (a.arguments[k], b.arguments.get(k)) for a, b in zip(gt, proposal.calls, strict=True)
            for k in a.arguments if a.arguments[k] != b.arguments.get(k)}


def test_surface_forms_of_canonical_values() -> None:
    assert "10th December 2022" in surface_forms("2022-12-10")
    assert "December 10, 2022" in surface_forms("2022-12-10")
    assert "dollars" in surface_forms("USD") and "California" in surface_forms("CA")
    assert "kilometers" in surface_forms("km") and "English" in surface_forms("en")
    assert "yes" in surface_forms(True) and "no" in surface_forms(False)
    assert "5%" in surface_forms(0.05)
    assert "3pm" in surface_forms("15:00")
    assert surface_forms("Paris") == [] and surface_forms(7) == [] and surface_forms(None) == []
    assert surface_forms("2022-13-40") == []  # not a date


def test_surface_form_prefers_the_users_own_words() -> None:
    rec = make_record(calls=[("get_weather", {"city": "Paris", "date": "2022-12-10"})],
                      text="Weather in Paris starting from 10th December 2022")
    for seed in range(5):
        out = apply("surface_form", rec, seed)
        assert changed(rec, out) == {"date": ("2022-12-10", "10th December 2022")}
        assert score_candidate(rec.ground_truth(), out).value < 1.0


def test_surface_form_rewrites_codes_and_booleans() -> None:
    rec = make_record(calls=[("convert", {"from_currency": "USD", "round": True})],
                      text="Convert 10 dollars, rounded")
    seen = {tuple(changed(rec, apply("surface_form", rec, s)).items()) for s in range(12)}
    keys = {k for pairs in seen for k, _ in pairs}
    assert keys == {"from_currency", "round"}
    assert (("from_currency", ("USD", "dollars")),) in seen  # the grounded form of the code


def test_surface_form_does_not_apply_without_canonical_values() -> None:
    rec = make_record(calls=[("get_weather", {"city": "Paris"})], text="Weather in Paris")
    assert apply("surface_form", rec) is None


def test_extra_words_copies_the_neighbouring_words() -> None:
    rec = make_record(calls=[("get_weather", {"city": "Marshall"})],
                      text="What's the weather forecast for Marshall, MN this week?")
    values = {changed(rec, apply("extra_words", rec, s))["city"][1] for s in range(10)}
    assert "Marshall, MN" in values
    assert all(v.startswith("Marshall") or v.endswith("Marshall") for v in values)
    assert all(v.lower() in rec.messages[0]["content"].lower() for v in values)  # grounded, and wrong

    cell = make_record(calls=[("cell_structure", {"cell_type": "human"})],
                       text="Describe the structure of human cell")
    assert changed(cell, apply("extra_words", cell))["cell_type"] == ("human", "human cell")


def test_extra_words_needs_a_value_the_user_wrote() -> None:
    rec = make_record(calls=[("get_weather", {"city": "Lyon"})], text="Weather in Paris")
    assert apply("extra_words", rec) is None


def test_item_for_category_uses_the_users_noun() -> None:
    rec = make_record(calls=[("find_recipe", {"diet": "vegan", "recipe_type": "dessert"})],
                      text="Find a vegan recipe for brownies")
    outs = [changed(rec, apply("item_for_category", rec, s)) for s in range(8)]
    assert all(set(o) == {"recipe_type"} for o in outs)  # only the value the user did not write
    new = {o["recipe_type"][1] for o in outs}
    assert "brownies" in new
    assert all(v.lower() in rec.messages[0]["content"].lower() for v in new)


def test_item_for_category_leaves_values_the_user_wrote() -> None:
    rec = make_record(calls=[("get_weather", {"city": "Paris"})], text="Weather for the city of Paris")
    assert apply("item_for_category", rec) is None
