"""QR codes as inline SVG (segno): no image file, nothing from another origin, crisp at any size."""

from __future__ import annotations


def qr_svg(*, text: str, title: str) -> str:
    """An <svg> element encoding `text`, sized by CSS (viewBox only), dark modules on white."""
    import segno

    code = segno.make(text, error="m", micro=False)
    svg: str = code.svg_inline(
        scale=1, border=2, dark="#1c1917", light="#ffffff", omitsize=True, svgclass="qr__code", lineclass=None,
        title=title,
    )
    return svg
