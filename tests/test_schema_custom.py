"""Typed payloads for ``custom`` events: the registry and what decode does with it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import msgspec
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import schemas
from schemas import strategies as cst


class Step(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    title: Annotated[str, msgspec.Meta(min_length=1)]
    budget_tokens: Annotated[int, msgspec.Meta(ge=0)] = 0


class Plan(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    steps: list[Step]
    due: Annotated[dt.datetime, msgspec.Meta(tz=True)] | None = None


class OtherPlan(msgspec.Struct, frozen=True):
    steps: list[str]


@pytest.fixture(autouse=True)
def registry_left_clean():
    """Every test starts and ends with an empty registry: a leaked registration fails."""
    assert schemas.custom_payload_types() == {}
    yield
    assert schemas.custom_payload_types() == {}


@pytest.fixture
def plan_registered():
    with schemas.custom_registration("acme.plan", Plan):
        yield


def raw_custom(payload: str) -> bytes:
    return b'{"type":"custom","event_type":"acme.plan","payload":' + payload.encode() + b"}"


@pytest.mark.usefixtures("plan_registered")
def test_registered_payload_decodes_to_the_struct():
    body = schemas.decode(raw_custom('{"steps":[{"title":"read","budget_tokens":5}]}'))
    assert body == schemas.Custom(
        event_type="acme.plan", payload=Plan(steps=[Step(title="read", budget_tokens=5)])
    )


def test_unregistered_payload_stays_plain_json():
    body = schemas.decode(raw_custom('{"steps":[{"title":"read"}]}'))
    assert isinstance(body, schemas.Custom)
    assert body.payload == {"steps": [{"title": "read"}]}


@pytest.mark.usefixtures("plan_registered")
def test_typed_payload_round_trips_through_encode():
    body = schemas.Custom(
        event_type="acme.plan",
        payload=Plan(steps=[Step(title="a")], due=dt.datetime(2025, 1, 2, tzinfo=dt.UTC)),
    )
    raw = schemas.encode(body)
    assert raw == raw_custom('{"steps":[{"title":"a"}],"due":"2025-01-02T00:00:00Z"}')
    assert schemas.decode(raw) == body


@pytest.mark.usefixtures("plan_registered")
@pytest.mark.parametrize(
    ("payload", "path", "problem"),
    [
        (
            '{"steps":[{"title":"a","budget_tokens":-3}]}',
            "$.payload.steps[0].budget_tokens",
            "expected int >= 0, got -3",
        ),
        (
            '{"steps":[{"title":"a"},{"budget_tokens":1}]}',
            "$.payload.steps[1].title",
            "required field is missing",
        ),
        ('{"steps":[],"due":"yesterday"}', "$.payload.due", "invalid RFC3339 encoded datetime"),
        ('"not an object"', "$.payload", "expected object"),
    ],
)
def test_invalid_registered_payload_names_the_field(payload, path, problem):
    with pytest.raises(schemas.SchemaError) as err:
        schemas.decode(raw_custom(payload))
    assert err.value.path == path
    assert problem in err.value.problem


@pytest.mark.usefixtures("plan_registered")
def test_error_path_is_rebased_under_the_callers_root():
    with pytest.raises(schemas.SchemaError) as err:
        schemas.decode(raw_custom('{"steps":[{"title":""}]}'), path="$.data")
    assert err.value.path == "$.data.payload.steps[0].title"


@pytest.mark.usefixtures("plan_registered")
def test_missing_payload_of_a_registered_type_is_an_error():
    with pytest.raises(schemas.SchemaError) as err:
        schemas.decode(b'{"type":"custom","event_type":"acme.plan"}')
    assert err.value.path == "$.payload"


@pytest.mark.usefixtures("plan_registered")
def test_encode_refuses_an_invalid_typed_payload():
    with pytest.raises(schemas.SchemaError) as err:
        schemas.encode(schemas.Custom(event_type="acme.plan", payload=Plan(steps=[Step(title="")])))
    assert err.value.path == "$.payload.steps[0].title"


@pytest.mark.usefixtures("plan_registered")
def test_newer_payload_fields_are_ignored_by_older_payload_types():
    body = schemas.decode(raw_custom('{"owner":"ops","steps":[{"title":"a","eta":3}]}'))
    assert isinstance(body, schemas.Custom)
    assert body.payload == Plan(steps=[Step(title="a")])


def test_registering_the_same_type_twice_is_idempotent():
    with schemas.custom_registration("acme.plan", Plan):
        schemas.register_custom("acme.plan", Plan)
        assert schemas.custom_payload_types() == {"acme.plan": Plan}
    assert "acme.plan" not in schemas.custom_payload_types()


def test_registering_another_type_under_a_taken_name_fails():
    with schemas.custom_registration("acme.plan", Plan):
        with pytest.raises(ValueError, match=r"already registered to .*\.Plan"):
            schemas.register_custom("acme.plan", OtherPlan)
        assert schemas.custom_payload_types()["acme.plan"] is Plan


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "a b", "x" * 201, "-x", "acme\n"])
def test_event_type_names_must_be_file_safe(name):
    with pytest.raises(ValueError, match="invalid custom event type"):
        schemas.register_custom(name, Plan)
    assert name not in schemas.custom_payload_types()


def test_payload_type_must_be_a_tolerant_struct():
    class Rows(msgspec.Struct, array_like=True):
        a: int

    class Strict(msgspec.Struct, forbid_unknown_fields=True):
        a: int

    with pytest.raises(TypeError, match=r"msgspec\.Struct"):
        schemas.register_custom("acme.dict", dict)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="array_like"):
        schemas.register_custom("acme.rows", Rows)
    with pytest.raises(TypeError, match="forbid_unknown_fields"):
        schemas.register_custom("acme.strict", Strict)
    assert schemas.custom_payload_types() == {}


def test_unregister_forgets_and_refuses_unknown_names():
    schemas.register_custom("acme.plan", Plan)
    schemas.unregister_custom("acme.plan")
    assert schemas.custom_payload_types() == {}
    with pytest.raises(KeyError, match="not registered"):
        schemas.unregister_custom("acme.plan")


def test_registry_view_is_a_read_only_snapshot():
    with schemas.custom_registration("acme.plan", Plan):
        view = schemas.custom_payload_types()
        with pytest.raises(TypeError):
            view["acme.other"] = OtherPlan  # type: ignore[index]
    assert view == {"acme.plan": Plan}  # a snapshot: unaffected by the unregistration


def test_context_manager_keeps_a_registration_that_predates_it():
    schemas.register_custom("acme.plan", Plan)
    try:
        with schemas.custom_registration("acme.plan", Plan):
            pass
        assert schemas.custom_payload_types() == {"acme.plan": Plan}
    finally:
        schemas.unregister_custom("acme.plan")


@pytest.mark.usefixtures("plan_registered")
@given(cst.custom_bodies("acme.plan"))
def test_typed_custom_bodies_round_trip(body):
    assert isinstance(body.payload, Plan)
    raw = schemas.encode(body)
    assert schemas.decode(raw) == body
    assert schemas.encode(schemas.decode(raw)) == raw


@pytest.mark.usefixtures("plan_registered")
@given(st.data())
def test_custom_bodies_draw_registered_and_unregistered_types(data):
    body = data.draw(cst.custom_bodies())
    if body.event_type == "acme.plan":
        assert isinstance(body.payload, Plan)
    else:
        assert isinstance(body.payload, type(None) | bool | int | float | str | list | dict)
    assert schemas.decode(schemas.encode(body)) == body


def test_custom_bodies_reach_the_registered_type():
    no_shrinking = settings(database=None, phases=[Phase.generate])
    with schemas.custom_registration("acme.plan", Plan):
        found = find(
            cst.custom_bodies(), lambda b: isinstance(b.payload, Plan), settings=no_shrinking
        )
    assert found.event_type == "acme.plan"


class Ledger(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    amount: Decimal | None = None
    size: tuple[int, int] = (0, 0)
    dims: list[int] = []


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(Ledger(amount=Decimal("NaN")), id="decimal-nan"),
        pytest.param(Ledger(amount=Decimal("sNaN")), id="decimal-signaling-nan"),
        pytest.param(Ledger(amount=Decimal("-Infinity")), id="decimal-infinity"),
        pytest.param(Ledger(amount=Decimal("1.50")), id="decimal-trailing-zero"),
        pytest.param(Ledger(size=[1, 2]), id="list-for-a-tuple-field"),  # type: ignore[arg-type]
        pytest.param(Ledger(dims=(1, 2)), id="tuple-for-a-list-field"),  # type: ignore[arg-type]
    ],
)
def test_registered_values_that_read_back_equal_are_accepted(payload):
    # encode refuses only what reads back different: a NaN Decimal never equals itself, and a
    # list in a tuple field reads back a tuple, yet both read back as what was given.
    with schemas.custom_registration("acme.ledger", Ledger):
        body = schemas.Custom(event_type="acme.ledger", payload=payload)
        raw = schemas.encode(body)
        assert schemas.encode(schemas.decode(raw)) == raw
        assert str(schemas.decode(raw).payload.amount) == str(payload.amount)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (schemas.Custom(event_type="x", payload={"n": 10**5000}), "$.payload.n"),
        (
            schemas.Messages(messages=[], usage=schemas.UsageRecord(model="m", cost_usd=10**5000)),
            "$.usage.cost_usd",
        ),
        (
            schemas.Messages(
                messages=[
                    schemas.Message(
                        role="user", content=[schemas.UnknownPart({"type": "audio", "n": 10**5000})]
                    )
                ]
            ),
            "$.messages[0].content[0].n",
        ),
    ],
)
def test_an_int_past_pythons_digit_limit_is_a_schema_error_at_its_path(body, path):
    with pytest.raises(schemas.SchemaError) as err:
        schemas.encode(body)
    assert err.value.path == path
