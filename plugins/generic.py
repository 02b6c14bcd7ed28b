"""Generic fallback for every modality no other plugin claims (NM, OT, SC, ...): native values."""

from __future__ import annotations

from volumeview.hookspecs import hookimpl


@hookimpl(trylast=True)
def volumeview_get_handler(series):
    return "generic"
