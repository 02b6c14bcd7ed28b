"""Header text for people: person names as written on films and viewers (no VTK, no pydicom)."""

from __future__ import annotations


def person_name(value: object) -> str:
    """A DICOM PN value as one readable line.

    ``^`` separates family, given, middle, prefix and suffix; ``=`` separates the alphabetic,
    ideographic and phonetic groups (Korean and Japanese names often carry all three). The first
    group is shown, then the other distinct groups in parentheses.

    >>> person_name("Hong^Gildong=洪^吉洞=홍^길동")
    'Hong Gildong (洪 吉洞, 홍 길동)'
    >>> person_name("홍^길동")
    '홍 길동'
    """
    groups = []
    for group in str(value or "").split("="):
        words = " ".join(part.strip() for part in group.split("^") if part.strip())
        if words and words not in groups:
            groups.append(words)
    if not groups:
        return ""
    return groups[0] + (f" ({', '.join(groups[1:])})" if len(groups) > 1 else "")
