"""Help-screen settings: no ``<bool>`` placeholder after a switch (Typer 0.29 prints one for every option)."""

from __future__ import annotations


def hide_flag_placeholders() -> None:
    """``--json`` and ``--show-patient`` take no value: show no type after them in ``-h``.

    Typer 0.29 labels every option with its type (``<bool>``, ``<str>``); for a switch that reads as if
    it wanted a value. Options with a value keep their label. Older Typer versions have no such label
    and are left alone.
    """
    try:
        from typer.core import TyperOption
    except ImportError:  # pragma: no cover
        return
    original = getattr(TyperOption, "display_type_rich", None)
    if original is None or getattr(original, "_volumeview", False):
        return

    def display_type_rich(self, ctx):  # type: ignore[no-untyped-def]
        if getattr(self, "is_flag", False) and not getattr(self, "count", False):
            return None
        return original(self, ctx)

    display_type_rich._volumeview = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


def wrap_long_help_words() -> None:
    """Fold, not cut, long words in option help (``anterior|posterior|left|...`` at 80 columns).

    Typer's rich help table ends a word wider than its column with "…", so a list of choices
    written without spaces lost its end on an 80-column terminal.
    """
    try:
        from typer import rich_utils
    except ImportError:  # pragma: no cover
        return
    original = getattr(rich_utils, "_get_parameter_help", None)
    if original is None or getattr(original, "_volumeview", False):
        return

    def get_parameter_help(*args, **kwargs):  # type: ignore[no-untyped-def]
        help_columns = original(*args, **kwargs)  # a rich Columns of Text items
        for item in getattr(help_columns, "renderables", [help_columns]):
            if hasattr(item, "overflow"):
                item.overflow = "fold"
        return help_columns

    get_parameter_help._volumeview = True  # type: ignore[attr-defined]
    rich_utils._get_parameter_help = get_parameter_help

    # Option names (--no-annotations) are cells of the same table: fold them too.
    from rich.table import Table
    from rich.text import Text

    class FoldingTable(Table):
        def add_row(self, *renderables, **kwargs):  # type: ignore[no-untyped-def]
            for cell in renderables:
                if isinstance(cell, Text):
                    cell.overflow = "fold"
            return super().add_row(*renderables, **kwargs)

    if getattr(rich_utils, "Table", None) is Table:
        rich_utils.Table = FoldingTable
