"""What every picture the tool draws shares: the same font and a white page, so they read alike."""

from __future__ import annotations

FONT = "font-family='DejaVu Sans, Arial, sans-serif'"


def page(width: int, height: float) -> list[str]:
    """The opening tag and a white background (viewers show transparency as black or grey)."""
    return [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' {FONT} font-size='12'>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
    ]
