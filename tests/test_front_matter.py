"""Front matter's YAML: the values built directly from a document's node tree equal what the safe
loader itself builds, for every kind of value, and whatever the fast path leaves to the loader
still comes out the same."""

from __future__ import annotations

import datetime

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchsvc.front_matter import _SAFE_LOADER, load_yaml


def loader_value(text: str):
    """What the safe loader (timestamps as text) builds from ``text`` on its own."""
    loader = _SAFE_LOADER(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def same(a, b) -> bool:
    """Equal, with NaN equal to NaN (``.nan`` builds a float that equals nothing)."""
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def without_secured(value):
    """``value`` without its 'secured' keys (in any case), at any depth, as front matter drops them."""
    if isinstance(value, dict):
        return {k: without_secured(v) for k, v in value.items() if str(k).lower() != "secured"}
    if isinstance(value, list):
        return [without_secured(v) for v in value]
    return value


DOCUMENTS = [
    "title: Plain\nexcerpt: words\n",
    "count: 0x1F\nunderscored: 1_000\nsexagesimal: 1:30\noctal: 0o17\nnegative: -12\n",
    "ratio: 1.5e3\ninfinite: .inf\nnot_a_number: .nan\nsmall: -.5\n",
    "yes: yes\nno: No\non: on\noff: OFF\ntrue: true\nnothing: ~\nempty:\nnull: null\n",
    "publishedDateTime: 2022-03-24T05:43:00Z\nday: 2021-02-30\nspaced: 2001-12-14 21:59:43.10 -5\n",
    "picture: !!binary aGVsbG8=\nforced: !!str 123\nfloat_forced: !!float 3\n",
    "provider:\n  name: Express\n  domain: express.co.uk\ntopics:\n- Sports\n- [a, b]\n- {x: 1}\n",
    "1: one\n2.5: two and a half\ntrue: yes-key\n~: null-key\n2022-01-01: date-key\n",
    "same: first\nsame: second\n",
    "'quoted': \"double\"\nfolded: >\n  one\n  two\nliteral: |\n  keep\n  lines\n",
    "base: {a: 1}\nmerged:\n  <<: {a: 1, b: 2}\n  c: 3\n",
    "=: value key\nother: 1\n",
    "deep: " + "[" * 40 + "x" + "]" * 40 + "\n",
    "set: !!set {a, b}\nomap: !!omap [a: 1, b: 2]\npairs: !!pairs [a: 1, a: 2]\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_front_matter_values_equal_the_safe_loaders_for_every_kind_of_value(text):
    assert same(load_yaml(text), loader_value(text))


def test_front_matter_keeps_dates_as_text_and_numbers_as_numbers():
    value = load_yaml("publishedDateTime: 2022-03-24T05:43:00Z\nheat: 12\nquality: 0.5\npublished: true\n")

    assert value == {"publishedDateTime": "2022-03-24T05:43:00Z", "heat": 12, "quality": 0.5, "published": True}


def test_front_matter_that_is_not_a_plain_tree_is_built_by_the_loader_with_the_same_errors():
    with pytest.raises(yaml.constructor.ConstructorError, match="found unhashable key"):
        load_yaml("? [a, b]\n: sequence key\n")
    with pytest.raises(ValueError):
        load_yaml("count: !!int abc\n")
    with pytest.raises(yaml.constructor.ConstructorError, match="could not determine a constructor"):
        load_yaml("thing: !custom 1\n")


def test_front_matter_secured_keys_are_dropped_on_both_paths():
    assert load_yaml("title: T\nsecured: blob\n") == {"title": "T"}
    assert load_yaml("title: T\nSECURED: blob\nnested: {Secured: x, kept: 1}\n") == {
        "title": "T",
        "nested": {"kept": 1},
    }


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.dates().map(datetime.date.isoformat),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=300, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(value=st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=6), flow=st.booleans())
def test_front_matter_of_generated_documents_equals_the_safe_loaders(value, flow):
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True, sort_keys=False)

    assert same(load_yaml(text), without_secured(loader_value(text)))
