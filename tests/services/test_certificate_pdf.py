"""The certificate PDF: every field in Chinese, rare characters, the middle dot, fonts embedded."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from domain.certificate import FEE_TYPE, period_text, tax_authority
from domain.months import Month
from services import cjk_fonts as fonts_module
from services.certificate_pdf import CertificateDoc, CertificateLine, render_certificate
from services.cjk_fonts import FontFile, FontsMissing, _discovered, cjk_fonts, parse_font_spec

VERIFY_URL = "http://127.0.0.1:8000/h5/verify/SB2026112700000001?code=ABCDEFGHJK"


def doc(name: str, *, city: str | None = None) -> CertificateDoc:
    months = [Month(2026, 1), Month(2026, 2)]
    return CertificateDoc(
        certificate_no="SB2026112700000001",
        issued_on=date(2026, 11, 27),
        authority=tax_authority(city),
        payer_name=name,
        id_type_label="居民身份证",
        id_number="52010219900101031X",
        fee_type=FEE_TYPE,
        period=period_text(months[0], months[-1]),
        lines=[
            CertificateLine(
                month=str(m),
                period=period_text(m, m),
                item="企业职工基本养老保险费",
                amount_fen=87267,
                treasury_date=date(2026, 3, 4),
            )
            for m in months
        ],
        total_fen=2 * 87267,
        verify_code="ABCDEFGHJK",
        verify_url=VERIFY_URL,
    )


def run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, check=True, timeout=60)
    return done.stdout.decode()


@pytest.mark.parametrize("name", ["王㛃", "阿依古丽·买买提", "John Smith"])
def test_the_pdf_carries_every_field_and_the_name_whole(name: str, tmp_path: Path) -> None:
    pdf = render_certificate(doc(name, city="遵义市"), cjk_fonts([]))
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    text = run("pdftotext", "-enc", "UTF-8", str(path), "-")
    for expected in (
        "中华人民共和国",
        "税收完税证明",
        "No. SB2026112700000001",
        "填发日期：2026年11月27日",
        "国家税务总局遵义市税务局",
        "52010219900101031X",  # in full: the payer's own certificate
        "社会保险费",
        "企业职工基本养老保险费",
        "2026-01-01至2026-02-28",
        "2026-03-04",
        "872.67",
        "（大写）壹仟柒佰肆拾伍元叁角肆分",
        "¥1745.34",
        "验证码：ABCDEFGHJK",
        VERIFY_URL,
    ):
        assert expected in text, expected
    assert name in text
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_the_packaged_font_alone_is_embedded_and_the_page_renders(tmp_path: Path) -> None:
    path = tmp_path / "c.pdf"
    for name in ("王㛃", "阿依古丽·买买提"):
        path.write_bytes(render_certificate(doc(name), cjk_fonts([])))
        # Noto Sans CJK SC has every character, 㛃 too: the fallback fonts are not even loaded.
        [only] = run("pdffonts", str(path)).splitlines()[2:]
        assert "NotoSansCJKSC" in only and " yes yes " in only, only  # embedded, subset
    run("pdftoppm", "-png", "-r", "60", "-singlefile", str(path), str(tmp_path / "page"))
    with Image.open(tmp_path / "page.png") as page:
        # A portrait A4 page with ink on it.
        assert page.width < page.height
        darkest, _ = page.convert("L").getextrema()
        assert isinstance(darkest, int) and darkest < 64


@pytest.fixture
def no_system_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh machine: no fc-match on PATH, so no system font is found."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    # fc-match's answer is cached for the process: forget it before and after.
    _discovered.cache_clear()
    yield
    _discovered.cache_clear()


@pytest.mark.usefixtures("no_system_fonts")
@pytest.mark.parametrize("name", ["王㛃", "阿依古丽·买买提"])
def test_without_system_fonts_the_packaged_font_prints_the_name(name: str) -> None:
    page = PdfReader(io.BytesIO(render_certificate(doc(name), cjk_fonts([])))).pages[0]
    resources: Any = page["/Resources"]  # pypdf's PdfObject types no indexing
    [font] = resources["/Font"].values()
    assert str(font.get_object()["/BaseFont"]).endswith("+NotoSansCJKSC")
    # pypdf, not poppler: this must pass with the Python packages alone. pypdf decodes fpdf2's
    # CMap for CFF fonts a byte at a time, adding NULs (see tests/api/test_certificates.py).
    assert name in page.extract_text().replace("\x00", "")


@pytest.mark.usefixtures("no_system_fonts")
def test_fonts_are_missing_only_when_the_packaged_one_is_gone_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fonts_module, "PACKAGED_FONT", FontFile(tmp_path / "gone.ttc", 2))
    with pytest.raises(FontsMissing):
        cjk_fonts([])


def test_the_qr_code_is_an_image_on_the_page() -> None:
    reader = PdfReader(io.BytesIO(render_certificate(doc("王㛃"), cjk_fonts([]))))
    [qr] = reader.pages[0].images
    with Image.open(io.BytesIO(qr.data)) as image:
        assert image.width == image.height


def test_font_specs_name_a_file_and_a_face() -> None:
    assert parse_font_spec("/f/x.ttc#2") == FontFile(Path("/f/x.ttc"), 2)
    assert parse_font_spec("/f/y.ttf") == FontFile(Path("/f/y.ttf"), 0)
    with pytest.raises(FontsMissing):
        parse_font_spec("/f/x.ttc#two")


def test_configured_fonts_win_and_missing_ones_are_refused(tmp_path: Path) -> None:
    noto = f"{fonts_module.PACKAGED_FONT.path}#2"
    assert cjk_fonts([str(tmp_path / "none.ttf"), noto]) == [parse_font_spec(noto)]
    with pytest.raises(FontsMissing):
        cjk_fonts([str(tmp_path / "none.ttf")])
