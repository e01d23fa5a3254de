"""The certificate PDF (税收完税证明): fpdf2 with embedded CJK fonts and a QR code to verify it."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import segno
from fpdf import FPDF
from fpdf.fonts import TTFFont

from domain.money import chinese_capital_amount, fen_to_yuan_str
from services.cjk_fonts import FontFile


@dataclass(frozen=True, slots=True)
class CertificateLine:
    month: str
    period: str  # "2026-01-01至2026-01-31"
    item: str  # 品目名称, e.g. 企业职工基本养老保险费
    amount_fen: int
    treasury_date: date


@dataclass(frozen=True, slots=True)
class CertificateDoc:
    """Everything printed on one certificate."""

    certificate_no: str
    issued_on: date
    authority: str
    payer_name: str
    id_type_label: str
    # In full, as on the real 税收完税证明: the payer downloads their own (verify masks it).
    id_number: str
    fee_type: str
    period: str
    lines: Sequence[CertificateLine]
    total_fen: int
    verify_code: str
    verify_url: str


_PAGE_W = 210.0
_MARGIN = 15.0
_WIDTH = _PAGE_W - 2 * _MARGIN
# 税种 | 品目名称 | 税款所属时期 | 入(退)库日期 | 实缴(退)金额
_COLUMNS: tuple[tuple[str, float], ...] = (
    ("税种", 30.0),
    ("品目名称", 46.0),
    ("税款所属时期", 50.0),
    ("入(退)库日期", 28.0),
    ("实缴(退)金额", 26.0),
)
_ROW_H = 9.0


class _Pdf(FPDF):
    """FPDF that sets each text run in one font covering all of it (clean text extraction).

    Fallback fonts are loaded only when a run needs them: parsing a large CJK face costs as
    much as the rest of the document, and the primary font (Noto Sans CJK SC) has almost every
    name.
    """

    def __init__(self, fonts: Sequence[FontFile]) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.font_names: list[str] = []
        self._fonts = list(fonts)
        self._load(self._fonts[0])

    def _load(self, font: FontFile) -> None:
        name = f"cjk{len(self.font_names)}"
        self.add_font(name, "", str(font.path), collection_font_number=font.index)
        self.font_names.append(name)

    def _covers(self, name: str, text: str) -> bool:
        face = self.fonts[name]
        return isinstance(face, TTFFont) and all(
            ord(ch) in face.cmap for ch in text if not ch.isspace()
        )

    def use(self, text: str, size: float) -> None:
        """The first font that has every character of text (else the primary, with fallback)."""
        if not self._covers(self.font_names[0], text) and len(self.font_names) == 1:
            for font in self._fonts[1:]:
                self._load(font)
            # Character-level fallback as well, for runs no single font covers.
            self.set_fallback_fonts(self.font_names[1:])
        chosen = next(
            (name for name in self.font_names if self._covers(name, text)), self.font_names[0]
        )
        self.set_font(chosen, size=size)

    def text_cell(
        self,
        w: float,
        h: float,
        text: str,
        *,
        size: float = 10.5,
        align: str = "L",
        border: Literal[0, 1] = 0,
    ) -> None:
        self.use(text, size)
        self.cell(w, h, text, border=border, align=align)


def _qr_png(url: str) -> io.BytesIO:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=6, border=2)
    out.seek(0)
    return out


def _yuan(fen: int) -> str:
    return "¥" + fen_to_yuan_str(fen)


def render_certificate(doc: CertificateDoc, fonts: Sequence[FontFile]) -> bytes:
    """The PDF bytes. CPU-bound (font parsing, subsetting): call it in a worker thread."""
    pdf = _Pdf(fonts)
    pdf.set_title(f"税收完税证明 {doc.certificate_no}")
    pdf.set_author(doc.authority)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN)
    pdf.add_page()
    # Room between a table's rule and its text (fpdf2's default is 1 mm).
    pdf.c_margin = 2.5

    pdf.text_cell(_WIDTH, 8, "中华人民共和国", size=14, align="C")
    pdf.ln(9)
    pdf.text_cell(_WIDTH, 11, "税收完税证明", size=22, align="C")
    pdf.ln(13)
    pdf.text_cell(_WIDTH, 6, f"No. {doc.certificate_no}", size=10.5, align="R")
    pdf.ln(8)
    pdf.text_cell(_WIDTH / 2, 7, f"填发日期：{doc.issued_on:%Y年%m月%d日}")
    pdf.text_cell(_WIDTH / 2, 7, f"税务机关：{doc.authority}", align="R")
    pdf.ln(9)

    label_w = 34.0
    for label, value in (
        ("纳税人名称", doc.payer_name),
        ("证件类型", doc.id_type_label),
        ("纳税人识别号", doc.id_number),
        ("费款所属期", doc.period),
    ):
        pdf.text_cell(label_w, _ROW_H, label, border=1, align="C")
        pdf.text_cell(_WIDTH - label_w, _ROW_H, value, border=1)
        pdf.ln(_ROW_H)

    for title, width in _COLUMNS:
        pdf.text_cell(width, _ROW_H, title, border=1, align="C", size=10)
    pdf.ln(_ROW_H)
    for line in doc.lines:
        cells = (
            doc.fee_type,
            line.item,
            line.period,
            f"{line.treasury_date:%Y-%m-%d}",
            fen_to_yuan_str(line.amount_fen),
        )
        for number, ((_, width), text) in enumerate(zip(_COLUMNS, cells, strict=True)):
            align = "R" if number == len(cells) - 1 else "C"
            pdf.text_cell(width, _ROW_H, text, border=1, align=align, size=9)
        pdf.ln(_ROW_H)

    pdf.text_cell(label_w, _ROW_H, "金额合计", border=1, align="C")
    capital = f"（大写）{chinese_capital_amount(doc.total_fen)}"
    figures_w = 40.0
    pdf.text_cell(_WIDTH - label_w - figures_w, _ROW_H, capital, border=1)
    pdf.text_cell(figures_w, _ROW_H, _yuan(doc.total_fen), border=1, align="R")
    pdf.ln(_ROW_H + 6)

    qr_size = 36.0
    top = pdf.get_y()
    pdf.image(_qr_png(doc.verify_url), x=_MARGIN + _WIDTH - qr_size, y=top, w=qr_size)
    text_w = _WIDTH - qr_size - 4
    pdf.text_cell(text_w, 7, f"验证码：{doc.verify_code}", size=12)
    pdf.ln(8)
    note = "本证明仅证明缴入国库的社会保险费。可扫描右侧二维码，或凭证明编号与验证码查验真伪。"
    pdf.use(note, 9)
    pdf.multi_cell(text_w, 5, note, new_x="LMARGIN", new_y="NEXT")
    pdf.use(doc.verify_url, 7.5)
    pdf.multi_cell(text_w, 4, doc.verify_url, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + qr_size) + 6)
    pdf.text_cell(_WIDTH, 7, f"税务机关：{doc.authority}（电子证明）", size=10.5, align="R")
    pdf.ln(7)
    pdf.text_cell(_WIDTH, 6, "妥善保管  手写无效", size=9, align="R")
    return bytes(pdf.output())
