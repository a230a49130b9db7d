"""Text for CP932 (Windows Shift_JIS) files, the encoding DM print vendors ask for.

Some characters have a CP932 twin that Unicode keeps apart (the wave dash 〜 vs the full-width
tilde ～ CP932 maps 0x8160 to, and a few dashes and signs): they are swapped for the twin and
not counted, because nothing is lost. Anything else CP932 cannot encode (e.g. 𠮷, 𩸽, emoji,
most accented Latin letters) becomes the geta mark 〓, the typesetters' "missing character" sign,
and is counted so the export manifest can report it. Encoding never fails.
"""

from __future__ import annotations

#: Written in place of a character CP932 cannot encode.
REPLACEMENT = "〓"

#: Unicode characters whose CP932 form is a different code point (JIS X 0208 mapping quirks).
CP932_TWINS = str.maketrans(
    {
        "\u301c": "\uff5e",  # WAVE DASH 〜 -> FULLWIDTH TILDE ～
        "\u2016": "\u2225",  # DOUBLE VERTICAL LINE ‖ -> PARALLEL TO ∥
        "\u2212": "\uff0d",  # MINUS SIGN − -> FULLWIDTH HYPHEN-MINUS －
        "\u2014": "\u2015",  # EM DASH — -> HORIZONTAL BAR ―
        "\u00a2": "\uffe0",  # CENT SIGN ¢ -> FULLWIDTH CENT SIGN ￠
        "\u00a3": "\uffe1",  # POUND SIGN £ -> FULLWIDTH POUND SIGN ￡
        "\u00ac": "\uffe2",  # NOT SIGN ¬ -> FULLWIDTH NOT SIGN ￢
        "\u00a5": "\uffe5",  # YEN SIGN ¥ -> FULLWIDTH YEN SIGN ￥
    }
)


def to_cp932_text(text: str) -> tuple[str, int]:
    """``text`` made encodable in CP932 and the number of characters replaced by 〓."""
    text = text.translate(CP932_TWINS)
    try:
        text.encode("cp932")
    except UnicodeEncodeError:
        pass
    else:
        return text, 0
    out: list[str] = []
    replaced = 0
    for char in text:
        try:
            char.encode("cp932")
        except UnicodeEncodeError:
            out.append(REPLACEMENT)
            replaced += 1
        else:
            out.append(char)
    return "".join(out), replaced


def encode_cp932(text: str) -> tuple[bytes, int]:
    """``text`` as CP932 bytes and the number of characters replaced by 〓."""
    safe, replaced = to_cp932_text(text)
    return safe.encode("cp932"), replaced
