"""Made records: irrelevance variants (near and far) and composed requests."""

from __future__ import annotations

from tests.fakes import STOCK, WEATHER, make_record
from train.augment import augment, compose, irrelevance_variant
from train.records import TrainRecord

OTHER = {"type": "function", "function": {"name": "book_flight", "description": "Book a flight",
                                          "parameters": {"type": "object", "properties": {}}}}


def test_near_variant_keeps_the_other_tools(record: TrainRecord) -> None:
    v = irrelevance_variant(record)
    assert v is not None and v.no_call and not v.calls and v.complexity == "irrelevance"
    assert [t["function"]["name"] for t in v.tools] == ["get_stock_price"]
    assert v.id.endswith("#irrelevant-near") and v.subset.endswith("+irrelevant-near")
    assert irrelevance_variant(make_record(tools=[WEATHER])) is None


def test_far_variant_offers_tools_from_elsewhere(record: TrainRecord) -> None:
    v = irrelevance_variant(record, far_tools=[OTHER, WEATHER])
    assert v is not None and [t["function"]["name"] for t in v.tools] == ["book_flight"]
    assert v.messages == record.messages


def test_compose_joins_requests_tools_and_calls() -> None:
    a = make_record("a/s/0/0", calls=[("get_weather", {"city": "Paris"})], text="Weather in Paris?",
                    tools=[WEATHER])
    b = make_record("a/s/1/0", calls=[("get_stock_price", {"symbol": "AAPL"})],
                    text="What is AAPL trading at?", tools=[STOCK])
    c = compose(a, b, "Also, ")
    assert c is not None
    assert c.last_user_text() == "Weather in Paris? Also, what is AAPL trading at?"
    assert [x.name for x in c.calls] == ["get_weather", "get_stock_price"]
    assert {t["function"]["name"] for t in c.tools} == {"get_weather", "get_stock_price"}
    assert c.complexity == "parallel_multiple"
    same = compose(a, make_record("a/s/2/0", calls=[("get_weather", {"city": "Rome"})],
                                  text="And Rome?", tools=[WEATHER]), "Also, ")
    assert same is not None and same.complexity == "parallel"


def test_compose_refuses_a_name_clash_and_multi_turn_records() -> None:
    a = make_record("a/s/0/0", calls=[("get_weather", {"city": "Paris"})], tools=[WEATHER])
    clash = dict(WEATHER, function={**WEATHER["function"], "description": "something else"})
    b = make_record("a/s/1/0", calls=[("get_weather", {"city": "Rome"})], tools=[clash])
    assert compose(a, b, "Also, ") is None
    multi = a.model_copy(update={"messages": [*a.messages, {"role": "assistant", "content": "?"},
                                              {"role": "user", "content": "yes"}]})
    assert compose(multi, a, "Also, ") is None


def test_augment_is_seeded_and_makes_each_kind() -> None:
    records = [make_record(f"a/s/{i}/0", calls=[("get_weather", {"city": f"town {i}"})],
                           text=f"weather in town {i}") for i in range(30)]
    made = augment(records, irrelevance_share=0.5, compose_share=0.5, seed=1)
    kinds = {m.subset.rsplit("+", 1)[-1] for m in made}
    assert kinds == {"irrelevant-near", "irrelevant-far", "composed"}
    again = augment(records, irrelevance_share=0.5, compose_share=0.5, seed=1)
    assert [m.id for m in again] == [m.id for m in made]


def test_respin_swaps_the_values_the_user_wrote() -> None:
    import random

    from train.augment import respin

    rec = make_record(calls=[("get_weather", {"city": "Paris", "days": 3})],
                      text="Weather in Paris for 3 days", tools=[WEATHER])
    twin = respin(rec, ["Lisbon"], random.Random(0))
    assert twin is not None
    args = twin.calls[0].arguments
    assert args["city"] == "Lisbon" and args["days"] != 3
    assert twin.last_user_text() == f"Weather in Lisbon for {args['days']} days"
    both = compose(rec, twin, "Also, ")
    assert both is not None and both.complexity == "parallel"
    assert respin(make_record(calls=[("get_weather", {"city": "Atlantis"})], text="weather there?",
                              tools=[WEATHER]), ["Lisbon"], random.Random(0)) is None
