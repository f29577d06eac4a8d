"""S30: the report's Chinese (and Latin) font, embedded as a TrueType subset so every reader shows it.

The glyphs come from Noto Sans CJK SC (SIL Open Font License 1.1), shipped on PyPI by
`noto-cjk-sans-otc` as an OpenType collection with PostScript (CFF) outlines. reportlab embeds only
TrueType outlines, so for each document the font is cut down with fontTools to the characters the
document uses and its outlines converted to TrueType (quadratic) curves; reportlab then subsets and
embeds that. The same characters always give the same font bytes, so the same report gives the same PDF.

reportlab keeps one registered font per PostScript name, so each cut gets its own name (from its
characters) and is registered only while its document is built.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, cast

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTFont, newTable
from noto_cjk_sans_otc import FONT_PATH
from reportlab.lib import fonts
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportlabTTFont

SIMPLIFIED_CHINESE = 2  # Noto Sans CJK SC in the collection (JP, KR, SC, TC, HK, then the Mono faces)
MAX_CURVE_ERROR = 1.0  # font units (of 1000 per em): the cubic-to-quadratic conversion is invisible
_lock = threading.RLock()


def truetype_subset(text: str) -> tuple[str, bytes]:
    """Noto Sans CJK SC reduced to the characters of `text`, with TrueType outlines: (its PostScript name,
    the .ttf file's bytes)."""
    chars = "".join(sorted(set(text) | {" "}))
    name = f"NotoSansSC-{hashlib.sha256(chars.encode()).hexdigest()[:16]}"
    return name, _subset(chars, name)


@lru_cache(maxsize=64)
def _subset(chars: str, name: str) -> bytes:
    font = TTFont(str(FONT_PATH), fontNumber=SIMPLIFIED_CHINESE, lazy=False, recalcTimestamp=False)
    options = Options()
    options.layout_features, options.name_IDs, options.notdef_outline = [], ["*"], True
    options.hinting, options.desubroutinize = False, True
    subsetter = Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    _to_truetype_outlines(font)
    for record in font["name"].names:
        if record.nameID == 6:  # the PostScript name: reportlab registers fonts by it
            record.string = name
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _to_truetype_outlines(font: TTFont) -> None:
    """Replace the CFF table by glyf/loca (cubic curves approximated by quadratic ones)."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, MAX_CURVE_ERROR, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    font.sfntVersion = "\x00\x01\x00\x00"
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].indexToLocFormat, font["head"].glyphDataFormat = 0, 0
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}


@contextmanager
def registered_for(text: str) -> Iterator[str]:
    """The font for `text` registered with reportlab while the block runs (one document at a time)."""
    name, data = truetype_subset(text)
    with _lock:
        font = ReportlabTTFont(name, io.BytesIO(data))
        pdfmetrics.registerFont(font)
        try:
            yield name
        finally:  # reportlab's registry is global and keyed by name: leave nothing behind
            # (its private maps, which reportlab's stubs do not declare)
            metrics, maps = cast(Any, pdfmetrics), cast(Any, fonts)
            metrics._fonts.pop(name, None)
            metrics._dynFaceNames.pop(font.face.name, None)
            maps._ps2tt_map.pop(name.lower(), None)
            for style in [(name.lower(), bold, italic) for bold in (0, 1) for italic in (0, 1)]:
                maps._tt2ps_map.pop(style, None)
