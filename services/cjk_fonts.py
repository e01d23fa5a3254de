"""The certificate's CJK fonts: SHEBAO_CJK_FONT_PATHS, else packaged Noto, then fc-match's."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import noto_cjk_sans_otc

# System fonts fontconfig may have, as fallbacks after the packaged face. Noto Sans CJK SC is
# asked for too: a distribution's copy may be newer than the pinned package.
FALLBACK_FAMILIES: tuple[str, ...] = ("WenQuanYi Micro Hei", "Noto Sans CJK SC")
_FC_MATCH_TIMEOUT_S = 10.0


class FontsMissing(RuntimeError):
    """No usable CJK font: the noto-cjk-sans-otc package's font is gone and fc-match finds none."""


@dataclass(frozen=True, slots=True)
class FontFile:
    path: Path
    # The face inside a .ttc collection (0 for single-font files).
    index: int = 0


# Face 2 of the collection is Noto Sans CJK SC (0 and 1 are JP and KR): it has CJK Extension A
# (㛃) and the middle dot, so a pip install alone prints every name. A path, not the Traversable:
# fpdf2 opens a file name; pip installs plain files (a zipped copy is no file, skipped below).
PACKAGED_FONT = FontFile(Path(str(noto_cjk_sans_otc.FONT_PATH)), 2)


def parse_font_spec(spec: str) -> FontFile:
    """ "/usr/share/fonts/x.ttc#2" → the file and face 2; a bare path is face 0."""
    path, sep, index = spec.strip().rpartition("#")
    if not sep:
        return FontFile(Path(spec.strip()))
    if not index.isdigit():
        raise FontsMissing(f"bad font index in SHEBAO_CJK_FONT_PATHS entry: {spec!r}")
    return FontFile(Path(path), int(index))


def _fc_match(family: str) -> FontFile | None:
    """The file fontconfig has for the family; None when it would substitute another family."""
    try:
        done = subprocess.run(
            ["fc-match", "--format=%{file}\n%{index}\n%{family}", family],
            capture_output=True,
            text=True,
            timeout=_FC_MATCH_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        # No fontconfig installed (OSError) or it failed: no system fallback, not an error.
        return None
    lines = done.stdout.split("\n")
    if len(lines) < 3 or family not in lines[2].split(","):
        return None
    index = int(lines[1]) if lines[1].isdigit() else 0
    return FontFile(Path(lines[0]), index)


@cache
def _discovered() -> tuple[FontFile, ...]:
    # Cached: fontconfig's answer does not change while the process runs.
    found = (_fc_match(family) for family in FALLBACK_FAMILIES)
    return tuple(font for font in found if font is not None)


def cjk_fonts(configured: list[str]) -> list[FontFile]:
    """The fonts to embed, primary first; FontsMissing when none of them exists."""
    if configured:
        fonts = [parse_font_spec(spec) for spec in configured]
    else:
        fonts = [PACKAGED_FONT, *_discovered()]
    present = [font for font in fonts if font.path.is_file()]
    if not present:
        raise FontsMissing(
            "no CJK font found: check SHEBAO_CJK_FONT_PATHS, or reinstall noto-cjk-sans-otc"
        )
    return present
