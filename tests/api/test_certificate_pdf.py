"""The certificate PDF: every field in Chinese, rare characters, the middle dot, fonts embedded."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from api.certificate_pdf import CertificateDoc, CertificateLine, render_certificate
from api.cjk_fonts import FontFile, FontsMissing, cjk_fonts, parse_font_spec
from domain.certificate import FEE_TYPE, period_text, tax_authority
from domain.months import Month

VERIFY_URL = "http://127.0.0.1:8000/api/v1/certificates/SB2026112700000001/verify?code=ABCDEFGHJK"


def doc(name: str, *, city: str | None = None) -> CertificateDoc:
    months = [Month(2026, 1), Month(2026, 2)]
    return CertificateDoc(
        certificate_no="SB2026112700000001",
        issued_on=date(2026, 11, 27),
        authority=tax_authority(city),
        payer_name=name,
        id_type_label="居民身份证",
        id_number_masked="520***********0311",
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
        "520***********0311",
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


def test_every_font_is_embedded_and_the_page_renders(tmp_path: Path) -> None:
    path = tmp_path / "c.pdf"
    path.write_bytes(render_certificate(doc("王㛃"), cjk_fonts([])))
    fonts = run("pdffonts", str(path)).splitlines()[2:]
    assert len(fonts) == 2  # WenQuanYi, and Noto for 㛃 which WenQuanYi lacks
    assert all(" yes yes " in line for line in fonts), fonts  # embedded, subset
    common = tmp_path / "common.pdf"
    common.write_bytes(render_certificate(doc("阿依古丽·买买提"), cjk_fonts([])))
    # WenQuanYi has every character of this name: the fallback font is not even loaded.
    [only] = run("pdffonts", str(common)).splitlines()[2:]
    assert "WenQuanYi" in only and " yes yes " in only
    run("pdftoppm", "-png", "-r", "60", "-singlefile", str(path), str(tmp_path / "page"))
    with Image.open(tmp_path / "page.png") as page:
        # A portrait A4 page with ink on it.
        assert page.width < page.height
        darkest, _ = page.convert("L").getextrema()
        assert isinstance(darkest, int) and darkest < 64


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
    wqy = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc#0"
    assert cjk_fonts([str(tmp_path / "none.ttf"), wqy]) == [parse_font_spec(wqy)]
    with pytest.raises(FontsMissing):
        cjk_fonts([str(tmp_path / "none.ttf")])
