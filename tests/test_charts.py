import struct

import pytest

from selfcheck import charts


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24])


def draw(path, title):
    fig, ax = charts.figure()
    ax.bar(["工作时间", "非工作时间"], [1.2, 7.9], color=charts.bar_colors([False, True]))
    ax.set_title(title)
    ax.set_ylabel("超时率（%）")
    return charts.save(fig, path)


def test_font_ships_with_the_dependencies():
    path = charts.font_path()
    assert path.name == "NotoSansCJKsc-Regular.otf"
    assert "site-packages" in str(path) or "mplfonts" in str(path)


def test_chinese_renders_at_fixed_size_and_deterministically(tmp_path, recwarn):
    a = draw(tmp_path / "a.png", "在线人工请求超时率（按时段）")
    b = draw(tmp_path / "b.png", "在线人工请求超时率（按时段）")
    assert not [w for w in recwarn if "missing from" in str(w.message)]
    assert png_size(a) == (
        round(charts.WIDTH_IN * charts.DPI),
        round(charts.HEIGHT_IN * charts.DPI),
    )
    assert a.read_bytes() == b.read_bytes()


def test_missing_glyph_fails_instead_of_boxes(tmp_path):
    with pytest.raises(charts.MissingGlyphError, match="GRINNING FACE"):
        draw(tmp_path / "c.png", "满意 \U0001f600")
    assert not (tmp_path / "c.png").exists()


def test_red_only_for_shortfalls():
    assert charts.bar_colors([False, True, False]) == [
        charts.PRIMARY,
        charts.SHORTFALL,
        charts.PRIMARY,
    ]
    assert charts.SHORTFALL not in charts.PALETTE
