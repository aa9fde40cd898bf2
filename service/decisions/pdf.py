"""A decision document as PDF (reportlab), A4, Chinese in an embedded TrueType font from Debian's packages.

The font: WenQuanYi Zen Hei (`fonts-wqy-zenhei`, installed by `make browser`), or the file named by
MR_PDF_FONT. It is embedded (subset), so every viewer, printer and `pdftoppm` shows the same glyphs and the
text can be copied and searched (ToUnicode). Noto CJK (`fonts-noto-cjk`) is not used: its outlines are
CFF, which reportlab cannot embed. Without any of the files, reportlab's built-in CID font STSong-Light is
used (nothing embedded: the viewer must have a Chinese font of its own), and a warning is logged."""

from __future__ import annotations

import io
import logging
import os
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from service.decisions.sheet import Sheet

log = logging.getLogger(__name__)

FONTS = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
         "/usr/share/fonts/truetype/arphic/uming.ttc")


@cache
def font_name() -> str:
    """Register the Chinese font once per process; its name for the styles."""
    wanted = os.environ.get("MR_PDF_FONT")
    for path in ([wanted] if wanted else []) + list(FONTS):
        if path and Path(path).is_file():
            pdfmetrics.registerFont(TTFont("MRChinese", path, subfontIndex=0))
            return "MRChinese"
    log.warning("no Chinese TrueType font found (%s): decision PDFs use the CID font STSong-Light, not embedded",
                ", ".join(FONTS))
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


class QRCode(Flowable):
    """The verification address as a QR code, drawn as vector squares (no image)."""

    def __init__(self, data: str, size: float) -> None:
        super().__init__()
        self.qr = segno.make(data, error="m")
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        rows = list(self.qr.matrix_iter(border=2))
        cell = self.size / len(rows)
        self.canv.setFillColor(colors.black)
        for y, row in enumerate(rows):
            for x, dark in enumerate(row):
                if dark:
                    self.canv.rect(x * cell, self.size - (y + 1) * cell, cell, cell, stroke=0, fill=1)


def render(sheet: Sheet, *, verify_url: str) -> bytes:
    """The document's PDF bytes."""
    font = font_name()

    def style(name: str, size: float, **kw: object) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.6, wordWrap="CJK", **kw)

    head = style("head", 20, alignment=TA_CENTER, textColor=colors.HexColor("#b00000"))
    title = style("title", 18, alignment=TA_CENTER, spaceBefore=6)
    number = style("number", 12, alignment=TA_CENTER)
    body = style("body", 12, firstLineIndent=24)
    plain = style("plain", 12)
    small = style("small", 9, textColor=colors.HexColor("#333333"))
    right = style("right", 12, alignment=TA_RIGHT)

    def p(text: str, st: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), st)

    story: list[Flowable] = [p(sheet.issuer, head), Spacer(1, 2 * mm), p(sheet.number, number),
                             Spacer(1, 4 * mm), p(sheet.title, title), Spacer(1, 6 * mm),
                             p(sheet.addressee, plain), p(sheet.opening, body), Spacer(1, 3 * mm)]
    if sheet.rows:
        table = Table([[p(r.label, plain), p(r.value, plain)] for r in sheet.rows], colWidths=[32 * mm, 128 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0"))]))
        story += [table, Spacer(1, 4 * mm)]
    if sheet.verdict:
        story.append(p(f"自动审查结果：{sheet.verdict}", plain))
        for i, f in enumerate(sheet.findings, 1):
            story.append(p(f"{i}. 【{f.severity}】{f.rule}：{f.message}" + (f"（{f.cited}）" if f.cited else ""),
                           plain))
            story.append(p(f"依据：{f.basis}", small))
        if sheet.acknowledged:
            story.append(p("审核人已逐项确认上述自动审查提示。", plain))
        story.append(Spacer(1, 3 * mm))
    story += [p(f"{sheet.reasons_heading}：", plain), p(sheet.reasons or "—", body)]
    if sheet.closing:
        story.append(p(sheet.closing, body))
    story += [Spacer(1, 12 * mm), p(sheet.signature, right), p(sheet.date, right), Spacer(1, 10 * mm)]
    check = Table([[QRCode(verify_url, 28 * mm),
                    [p("核验本文书：扫描二维码或访问", small), p(verify_url, small),
                     p(f"内容摘要（SHA-256）：{sheet.digest}", small),
                     p(f"审计日志事件：第{sheet.event_id}号（其包含证明可在核验页查看）", small)]]],
                  colWidths=[32 * mm, 128 * mm])
    check.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story.append(check)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm, topMargin=25 * mm,
                            bottomMargin=20 * mm, title=f"{sheet.title} {sheet.number}", author=sheet.issuer,
                            subject=sheet.title, creator="matter-registry")
    doc.build(story)
    return out.getvalue()
