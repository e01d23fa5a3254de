"""Where the certificate's CJK fonts are: SHEBAO_CJK_FONT_PATHS, else fontconfig's fc-match."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Primary first. WenQuanYi lacks CJK Extension A (㛃), so Noto CJK must follow it (the sans
# face, to match WenQuanYi; docs/architecture.md checked the serif one, which works alike).
WANTED_FAMILIES: tuple[str, ...] = ("WenQuanYi Micro Hei", "Noto Sans CJK SC")
_FC_MATCH_TIMEOUT_S = 10.0


class FontsMissing(RuntimeError):
    """No usable CJK font: install fonts-wqy-microhei and fonts-noto-cjk (see .ci/run)."""


@dataclass(frozen=True, slots=True)
class FontFile:
    path: Path
    # The face inside a .ttc collection (0 for single-font files).
    index: int = 0


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
        return None
    lines = done.stdout.split("\n")
    if len(lines) < 3 or family not in lines[2].split(","):
        return None
    index = int(lines[1]) if lines[1].isdigit() else 0
    return FontFile(Path(lines[0]), index)


@cache
def _discovered() -> tuple[FontFile, ...]:
    # Cached: fontconfig's answer does not change while the process runs.
    found = (_fc_match(family) for family in WANTED_FAMILIES)
    return tuple(font for font in found if font is not None)


def cjk_fonts(configured: list[str]) -> list[FontFile]:
    """The fonts to embed, primary first; FontsMissing when none of them exists."""
    fonts = [parse_font_spec(spec) for spec in configured] if configured else list(_discovered())
    present = [font for font in fonts if font.path.is_file()]
    if not present:
        raise FontsMissing("no CJK font found: set SHEBAO_CJK_FONT_PATHS or install the fonts")
    return present
