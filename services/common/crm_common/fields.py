"""Marshmallow fields with the shared input limits (``crm_common.limits``): dates inside the
accepted window, timestamps whose day (local and UTC) is inside it."""

from __future__ import annotations

from marshmallow import ValidationError, fields

from .limits import check_date


class Date(fields.Date):
    """An ISO 8601 date between 1900-01-01 and 2199-12-31 (422 otherwise)."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        try:
            return check_date(day)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class AwareDateTime(fields.AwareDateTime):
    """An ISO 8601 timestamp (a zone, or ``default_timezone``) whose day is inside the window."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            moment = super()._deserialize(value, attr, data, **kwargs)
        except OverflowError as exc:  # a zone offset that pushes it past year 9999
            raise ValidationError("not a valid timestamp") from exc
        try:
            return check_date(moment)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
