"""Frames of the legacy ``graphql-ws`` protocol, checked: anything Dagster should never send (non-JSON, a
list, a payload that is not an object) becomes a `DagsterGraphQLError`: shown, retried."""

from __future__ import annotations

import json

from edp_tui.dagster.errors import DagsterGraphQLError
from edp_tui.dagster.models import JSON


def _bad_frame(what: str, raw: object) -> DagsterGraphQLError:
    text = raw if isinstance(raw, str) else repr(raw)
    return DagsterGraphQLError([f"subscription frame {what}: {text[:200]}"])


def parse_frame(raw: str | bytes) -> JSON:
    """One graphql-ws frame as an object; anything else (non-JSON, a list, a string) is a DagsterError."""
    try:
        frame = json.loads(raw)
    except ValueError:
        raise _bad_frame("is not JSON", raw) from None
    if not isinstance(frame, dict):
        raise _bad_frame("is not an object", raw)
    return frame


def frame_data(frame: JSON) -> JSON:
    """The ``data`` of a ``data`` frame (an object; a null field stays None for the caller to handle)."""
    payload = frame.get("payload")
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise _bad_frame("payload is not an object", payload)
    errors = payload.get("errors")
    if errors and not payload.get("data"):
        raise DagsterGraphQLError(
            [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
            if isinstance(errors, list)
            else [str(errors)]
        )
    data = payload.get("data")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _bad_frame("data is not an object", data)
    return data


def object_field(data: JSON, field: str) -> JSON:
    """``data[field]`` as an object: null is an empty one, any other shape a DagsterError."""
    value = data.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad_frame(f"field {field} is not an object", value)
    return value
