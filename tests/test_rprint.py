"""hlm.rprint: numbers printed as R prints them (values from the notes' R output)."""
from __future__ import annotations

from hlm.rprint import coef_table, fmt_p, fmt_sig, rformat, table


def test_column_format_like_r():
    # the notes' summary.lm of lm(mathach ~ ses * Sector): estimates and SEs share 4 decimals
    est_se = rformat([13.557902816995, 2.299887160314, 0.1881304433161, 0.2581693308662], 4)
    assert est_se == ["13.5579", "2.2999", "0.1881", "0.2582"]
    # nlme's summary of the one-way model prints 12.60468 and 0.4711941 (7 significant digits)
    assert rformat([12.604675510427], 7) == ["12.60468"] and rformat([0.4711941149655], 7) == ["0.4711941"]


def test_footer_numbers_and_p_values():
    assert fmt_sig(6.3440123, 4) == "6.344" and fmt_sig(0.14041, 4) == "0.1404" and fmt_sig(107.41, 4) == "107.4"
    assert fmt_p(1e-300) == "< 2e-16" and fmt_p(0.0146, 3) == "0.0146"


def test_coef_table_and_alignment():
    text = coef_table([("(Intercept)", 13.557902816995, 0.1881304433161, 72.067, 1e-300),
                       ("SectorPublic", -1.466604346342, 0.2920914609273, -5.021, 5.6e-7)])
    first, second = text.splitlines()[1:3]
    assert first.split()[:4] == ["(Intercept)", "13.5579", "0.1881", "72.067"] and first.endswith("***")
    assert second.split()[:4] == ["SectorPublic", "-1.4666", "0.2921", "-5.021"]
    assert table([["a", "1.5"], ["bbb", "10.25"]], ["", "x"]).splitlines() == ["        x", "a     1.5", "bbb 10.25"]


def test_residual_quantiles_zapped_as_r():
    from hlm.rprint import resid_block
    # R: zapsmall(c(-2.5, -1e-15, 3.25e-14, 1, 2)) -> -2.5 0 0 1 2
    text = resid_block([-2.5, -1e-15, 3.25e-14, 1.0, 2.0])
    assert "e-" not in text and "0.0000000" not in text
    assert text.split("\n")[1].split() == ["-2.5", "0.0", "0.0", "1.0", "2.0"]
