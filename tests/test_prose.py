"""hlm.prose: the book's words for computed values."""
import pandas as pd

from hlm import prose


def test_p_values_and_significance_in_words():
    assert prose.peq(0.03531) == "= 0.0353" and prose.peq(1e-6) == "< 0.0001"
    assert prose.sig(0.01) == "significant" and prose.sig(0.2) == "not significant"
    assert prose.which_sig(0.01, 0.01) == "both differences are significant"
    assert prose.which_sig(0.2, 0.3) == "neither difference is significant"
    assert prose.which_sig(0.01, 0.3) == "only the difference in level is significant"
    assert prose.which_sig(0.3, 0.01) == "only the difference in slope is significant"


def test_ratios_signs_and_reductions():
    assert prose.times(1.02) == "about the same" and prose.times(2.345) == "2.3 times as large"
    assert prose.sign_word(1.0) == "higher" and prose.sign_word(-1.0, "up", "down") == "down"
    assert prose.reduction(10.0, 7.5) == 25.0


def test_verdict_of_a_slope_test():
    assert prose.verdict(float("nan"), "schools") == ""
    assert "no clear evidence" in prose.verdict(0.5, "schools")
    assert "not evidence that they are equal" in prose.verdict(0.5, "schools")  # absence of evidence
    assert "weak" in prose.verdict(0.07, "schools")
    assert prose.verdict(0.001, "clinics").endswith("differ between clinics.")


def test_ordinals_codes_marks():
    assert [prose.ordinal(k) for k in (1, 2, 3, 4, 11, 12, 13, 21, 1001)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "1,001st"]
    assert prose.codes(["a", "b"]) == "`a`, `b`"
    assert (prose.mark(True), prose.mark(False)) == ("✓", "✗")
    assert (prose.shown(None), prose.shown(1 / 3), prose.shown(3)) == ("missing", "0.3333333333", "3")


def test_excerpt_cuts_per_cluster_rows():
    rows = [f"School{i}  1.0  0.1" for i in range(6)] + [f"School{i}:SES  1.0  0.1" for i in range(5)]
    text = "\n".join(["Coefficients:", *rows, "Residual standard error"])
    out = prose.excerpt(text, "School", keep=2).splitlines()
    assert out[:4] == ["Coefficients:", "School0  1.0  0.1", "School1  1.0  0.1", "   ..."]
    assert out.count("   ...") == 2 and out[-1] == "Residual standard error"


def test_numbered_table_has_its_caption():
    text = prose.numbered_table(pd.DataFrame({"a": [1]}), "A table.", "tbl-a")
    assert text.endswith("\n: A table. {#tbl-a}") and "| a" in text
