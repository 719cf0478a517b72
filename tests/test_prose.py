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
    assert prose.sign_word(-0.001, "rises", "drops", zero="stays") == "stays"


def test_comparisons_follow_the_printed_numbers():
    # two numbers that print the same are the same in words, whatever their last digits
    assert prose.same(-0.3004, -0.2996) and not prose.same(-0.30, -0.31)
    assert prose.compare(-0.3004, -0.2996) == "the same as"
    assert prose.compare(1.0, 2.0) == "smaller than" and prose.compare(2.0, 1.0) == "larger than"
    assert prose.compare(-3.0, 1.0, magnitude=True) == "larger than"
    assert prose.compare(1.0, float("nan")) == "not comparable with"
    assert prose.change(3.75, 4.47) == "rises" and prose.change(4.47, 3.75) == "drops"
    assert prose.change(4.0, 4.001) == "does not change"
    assert prose.closeness(1.0, 1.001, 0.5) == "the same" and prose.closeness(1.0, 1.3, 0.5) == "close"
    assert prose.closeness(1.0, 2.5, 0.5) == "far apart"
    assert prose.times(1.04) == "about the same" and prose.times(float("nan")) == "not defined"


def test_counts_spans_and_sums():
    assert prose.count(1, "child", "children") == "1 child"
    assert prose.count(5000, "school", "schools") == "5,000 schools"
    assert prose.count(0, "line", "lines", none="no line") == "no line"
    assert prose.some_of(0, 27, "lines") == "none of the 27 lines"
    assert prose.some_of(27, 27, "lines") == "all 27 lines" and prose.some_of(1936, 5000, "schools") == \
        "1,936 of the 5,000 schools"
    assert prose.span(4, 4) == "4" and prose.span(4, 30) == "between 4 and 30"
    assert prose.span(11.0, 11.0, 2, equal="{lo} in every cluster") == "11.00 in every cluster"
    assert prose.plus(1.451, -0.290) == "1.45 − 0.29" and prose.plus(1.0, 0.5, 1) == "1.0 + 0.5"


def test_reduction_is_defined_for_every_design():
    # a between-cluster variance estimated at 0 has nothing to reduce: NaN and a sentence, no error
    assert prose.reduction(0.0, 0.0) != prose.reduction(0.0, 0.0)
    assert "nothing to reduce" in prose.reduction_text(0.0, 0.0, "the between-child variance")
    assert prose.reduction_text(10.0, 7.5, "it") == "a reduction of 25%"
    assert prose.reduction_text(10.0, 12.0, "it") == "an increase of 20%"
    assert prose.evidence(0.01) == "clear evidence" and prose.evidence(0.5) == "no evidence"


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


def test_variation_words_name_what_the_design_allows():
    import pandas as pd
    from hlm.levels import variation
    balanced = pd.DataFrame({"g": list("aabb"), "x": [8, 14, 8, 14]})
    both = pd.DataFrame({"g": list("aabb"), "x": [8, 10, 12, 15]})
    between = pd.DataFrame({"g": list("aabb"), "x": [1, 1, 2, 2]})
    kinds = [variation(d, "x", "g") for d in (balanced, both, between)]
    assert kinds == ["within", "both", "between"]
    assert variation(pd.DataFrame({"g": list("ab"), "x": [3, 3]}), "x", "g") == "none"
    words = prose.variation_words("within", "age", "child", "children")
    assert "same mean age" in words and "between children cannot be estimated" in words
    assert "told apart" in prose.variation_words("both", "SES", "school", "schools")
    assert "within a child cannot" in prose.variation_words("between", "age", "child", "children")


def test_possessive_of_plural_labels():
    from hlm.prose import possessive
    assert possessive("schools") == "schools'"
    assert possessive("children") == "children's"
    assert possessive("people") == "people's"
