"""Tests of truth: the words of the fixture books agree with their own numbers.

- Nothing of the builder's machine reaches a page: no warning text (numpy, pandas,
  statsmodels: "Warning", "RuntimeWarning", ...) and no absolute path (the build folder,
  the project, the virtual environment, /tmp, /home, /work), in the prose or in the code
  and its printed output.
- Mirrored outcome: the `mirrored` case is the `w_in_units` case with y -> -y, so every
  effect of x and w flips its sign while SEs, p-values and variance components stay. The
  two books are aligned sentence by sentence; a sentence whose words are the same in both
  while one of its numbers flips sign, and which holds a word of direction (higher, lower,
  positive, in favour, rises...; not a one-unit step of a predictor, "one unit more of x",
  nor largest/smallest, which the book uses of sizes), is false in one of the two books.
- Equal numbers: no sentence compares two numbers that print the same as if they differed
  ("smaller (−0.30 against −0.30)"), and no range has two equal ends ("from 11.00 to
  11.00"). Checked on every fixture book; the balanced design (all clusters alike) is where
  such sentences appear.

The books are those of tests/test_fixture_books.py, built once per test run
(tests/fixtures/books.py). The comparators are tested on small strings first.
"""
from __future__ import annotations

import json
import re
import sys
from difflib import SequenceMatcher
from pathlib import Path

import pytest

from tests.fixtures.books import MATH, MINUS, all_text, case_book, numbers, pages, sentences, skeleton
from tests.fixtures.matrix import CASES, MIRROR_OF
from tests.fixtures.project import ROOT

BUILDS = [n for n, c in CASES.items() if c.expect == "builds"]


# --- warnings and the machine's paths ----------------------------------------------------

WARNING = re.compile(r"\b\w*Warning\b")
MACHINE_DIRS = re.compile(r"(?<![\w.~-])/(?:tmp|home|work|root|Users|private|var/folders)/")


def machine_traces(page: str, own_paths: list[str]) -> list[str]:
    """Warning text and absolute paths of the machine in a page (its visible text, code and
    printed output included; `own_paths` are also looked for in the raw HTML)."""
    text = all_text(page)
    found = []
    for m in WARNING.finditer(text):
        found.append(f"warning: ...{text[max(0, m.start() - 80):m.end() + 80]!r}...")
    for m in MACHINE_DIRS.finditer(text):
        found.append(f"path: ...{text[max(0, m.start() - 60):m.end() + 60]!r}...")
    for path in own_paths:
        for m in re.finditer(re.escape(path), page):
            found.append(f"path {path}: ...{page[max(0, m.start() - 60):m.end() + 60]!r}...")
    return found


def test_machine_traces_on_small_pages():
    venv = "/opt/venvs/x"
    assert machine_traces("<pre>/a/b.py:12: RuntimeWarning: invalid value</pre>", [])
    assert machine_traces("<p>UserWarning: something</p>", [])
    assert machine_traces("<p>read from /home/ann/data/units.csv</p>", [])
    assert machine_traces("<p>read from /work/x/units.csv</p>", [])
    assert machine_traces(f'<img src="{venv}/lib/fig.png">', [venv])
    assert machine_traces("<pre>/tmp/pytest-1/units.csv</pre>", [])
    assert not machine_traces("<p>read from data/raw/units.csv (SHA-256 0a1b...)</p>", [venv])
    assert not machine_traces("<p>a warning sign: warnings are caught</p><p>km/h and 1/tmp2</p>", [])


def _own_paths(work: Path) -> list[str]:
    return sorted({str(work), str(work.resolve()), str(ROOT), sys.prefix, str(Path.home())} - {"/"})


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDS)
def test_no_warning_or_machine_path(name, tmp_path_factory):
    work = case_book(tmp_path_factory, name)
    problems = {}
    for page, html in pages(work, name).items():
        found = machine_traces(html, _own_paths(work))
        if found:
            problems[page] = found[:5]
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)


# --- the mirrored outcome ---------------------------------------------------------------

# Words whose truth depends on the sign of what they describe. Not the superlatives
# largest/smallest, which this book uses of sizes ("the largest move, 1.59"), and not a step
# of one unit in a predictor ("one unit more of x goes with -2.35 of y", true for any sign).
DIRECTION = re.compile(
    r"\b(higher|lower|highest|lowest|larger|smaller|bigger|greater|"
    r"rises?|rising|rose|drops?|dropped|dropping|falls?|fell|falling|"
    r"increases?|increased|increasing|decreases?|decreased|decreasing|"
    r"positive|negative|positively|negatively|above|below|more|less|fewer|"
    r"in favou?r|gains?|loss|losses|steeper|flatter|up|down|upward|downward|"
    r"better|worse|ahead|behind|exceeds?|climbs?|declines?|grows?|shrinks?)\b", re.I)


UNIT_STEP = re.compile(r"\b(?:one|a|an|each|per)\s+(?:(?:unit|point|step|year)s?\s+)?"
                       r"(?:more|higher|larger|greater|increase)\b"
                       r"|\b(?:more|higher|larger)\s+units?\b", re.I)


# "as shown above", "see below": a place in the book, not a direction of a number
PLACE = re.compile(r"\b(?:shown|see|printed|listed|given|described|as)\s+(?:above|below)\b", re.I)


def has_direction(sentence: str) -> bool:
    """`sentence` holds a word of direction (DIRECTION), a one-unit step of a predictor and a
    place in the book ("as shown above") aside."""
    return bool(DIRECTION.search(PLACE.sub(" ", UNIT_STEP.sub(" ", sentence))))


def flips_sign(a: str, b: str) -> bool:
    """Some number of `a` is printed with the opposite sign at the same place in `b` (the two
    have the same words; 0 has no sign)."""
    return any(x[0] != y[0] and x[0].lstrip(MINUS) == y[0].lstrip(MINUS) and x[1] != 0
               for x, y in zip(numbers(a), numbers(b)))


def mirror_contradictions(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    """Pairs of sentences of two pages (`a`, `b`: their sentences in order) that have the same
    words once their numbers are removed, a number that flips sign between them, and a word
    of direction: such a sentence cannot be true in both books.

    The sentences are aligned on their words (difflib on the number-free skeletons), so a
    sentence that only one book has, or whose words change, does not shift the others."""
    ska, skb = [skeleton(s) for s in a], [skeleton(s) for s in b]
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, ska, skb, autojunk=False).get_opcodes():
        if tag != "equal":
            continue
        for sa, sb in zip(a[i1:i2], b[j1:j2]):
            if flips_sign(sa, sb) and has_direction(sa):
                out.append((sa, sb))
    return out


def test_mirror_comparator_flags_a_fixed_direction_word():
    a = ["The model has 30 schools.", "The gap is 2.10 points in favour of Catholic schools.",
         "Higher SES, higher scores: the slope is 2.35."]
    b = ["The model has 30 schools.", "The gap is −2.10 points in favour of Catholic schools.",
         "Higher SES, higher scores: the slope is -2.35."]
    assert mirror_contradictions(a, b) == list(zip(a[1:], b[1:]))


def test_mirror_comparator_accepts_computed_words():
    # the words follow the sign; numbers that keep their sign; no word of direction; 0
    a = ["The gap is 2.10 points in favour of Catholic schools.", "The SE is 0.31 and p = 0.0010.",
         "The slope is 2.35 (t = 7.10).", "The mean is 0.00, so it is no higher than before."]
    b = ["The gap is −2.10 points in favour of Public schools.", "The SE is 0.31 and p = 0.0010.",
         "The slope is −2.35 (t = −7.10).", "The mean is −0.00, so it is no higher than before."]
    assert mirror_contradictions(a, b) == []
    # a one-unit step of x is no direction of y; a superlative of sizes is none either
    a = ["One unit more of status goes with 2.35 of score.", "A school one unit higher is 4.1 apart.",
         "The largest move, 1.59, belongs to a school whose BLUE is 8.53."]
    b = ["One unit more of status goes with −2.35 of score.", "A school one unit higher is −4.1 apart.",
         "The largest move, 1.59, belongs to a school whose BLUE is −8.53."]
    assert mirror_contradictions(a, b) == []
    # a place in the book is no direction either
    assert mirror_contradictions(["The coefficient, 4.28, is the sum of the two, as shown above."],
                                 ["The coefficient, −4.28, is the sum of the two, as shown above."]) == []
    assert mirror_contradictions(["One unit more of status: a score 2.3 higher."],
                                 ["One unit more of status: a score −2.3 higher."])
    # an extra sentence in one book does not misalign the rest
    assert mirror_contradictions(["A new line.", "It rises by 2.1."], ["It rises by −2.1."]) \
        == [("It rises by 2.1.", "It rises by −2.1.")]


@pytest.mark.slow
def test_mirrored_outcome_flips_no_direction_word(tmp_path_factory):
    original = pages(case_book(tmp_path_factory, MIRROR_OF), MIRROR_OF)
    mirrored = pages(case_book(tmp_path_factory, "mirrored"), "mirrored")
    assert sorted(original) == sorted(mirrored)
    found = {}
    for page in sorted(original):
        pairs = mirror_contradictions(sentences(original[page]), sentences(mirrored[page]))
        if pairs:
            found[page] = [f"{a}  ||  {b}" for a, b in pairs]
    assert not found, "sentences with the same words in both books while a number flips sign:\n" \
        + json.dumps(found, indent=1, ensure_ascii=False)


# --- numbers that print the same, compared as if they differed -----------------------------

COMPARATIVE = re.compile(
    r"\b(smaller|larger|smallest|largest|bigger|greater|greatest|differ|differs|differed|"
    r"different|differently|disagree|disagrees|away from|more|less|fewer|higher|lower|"
    r"highest|lowest|too optimistic|too pessimistic|exceeds?|rises?|rose|drops?|dropped|"
    r"falls?|fell|increases?|increased|decreases?|decreased|shrinks?|grows?|steeper|flatter|"
    r"closer|farther|further from|against|versus|vs|compared with|compared to|rather than)\b", re.I)
SAMENESS = re.compile(r"\b(same|equal|equals|identical|identically|coincide|coincides)\b", re.I)
NEGATION = re.compile(r"\b(not|no|never|neither|nor|cannot)\b|n't\b", re.I)
CLAUSE = re.compile(r";(?=\s)|\s[—–]\s|\b(?:while|whereas|but)\b")
REFERENCE = re.compile(r"(?:Figure|Fig\.|Table|Section|Chapter|Appendix|Method|Model|Equation|"
                       r"Eq\.|Part|§)\s*$")
RANGE = re.compile(r"\b(?:between|from)\s+$", re.I)
P_VALUE = re.compile(r"\bp\s*[=<>≤≥]\s*$")   # two tests' p-values at the same floor are not compared
WORD = re.compile(r"[^\W\d_]+")
NEAR = 8   # at most this many words between the two numbers compared


def _comparatives(clause: str) -> list[str]:
    """The comparative words of `clause` that no negation governs (none of not, no, never,
    neither, nor, cannot in the three words before)."""
    out = []
    for m in COMPARATIVE.finditer(clause):
        before = " ".join(WORD.findall(clause[:m.start()])[-3:])
        if not NEGATION.search(before):
            out.append(m.group(0))
    return out


def equal_numbers_compared(sentence: str) -> list[str]:
    """The reasons `sentence` treats two numbers that print the same as if they differed.

    The rule, per clause (the sentence cut at ';', a dash, 'while', 'whereas', 'but'; a
    colon is no cut, as it often introduces the numbers compared): two numbers of the clause
    print the same, with at most one other number between them and at most NEAR words
    (neither a reference like 'Figure 4.2' or 'Method 2', nor a p-value 'p < 0.0001' of
    which a sentence may give two, and not two sizes around a formula such as
    '454 × 454'), and
    - the clause holds a comparative word (smaller, larger, differ, different, away from,
      disagree, more, less, too optimistic, higher, lower, rises, drops, closer, against,
      versus, compared with, ...) that no negation governs (not, no, never... in the three
      words before), and no word of sameness (same, equal, identical, coincide) stands
      between the two numbers or in the four words after the second; or
    - they are the two ends of a range: 'between A and A', 'from A to A'.

    Limits: it reads one sentence at a time, so a comparison whose numbers are in different
    sentences, or whose other term is implied ('close to but not equal to the −0.305 of
    Method 2a'), or printed at another precision (0.30 against 0.305), is not seen; two equal
    numbers that a clause with a comparative word about something else does not compare are
    flagged (a user's title holding 'differs' would do); a comparative is trusted when a
    negation is among the three words before it ('not larger (2.2 and 2.2)' passes), or when
    a sameness word is between the numbers or just after them ('larger: 2.2 and 2.2, the
    same' passes); words
    that compare without a comparative ('the two methods part ways') are not known; numbers
    written in words, and numbers inside formulas, are not read."""
    found = []
    for clause in CLAUSE.split(sentence):
        nums = [n for n in numbers(clause)
                if not REFERENCE.search(clause[:n[2]]) and not P_VALUE.search(clause[:n[2]])]
        comparatives = _comparatives(clause)
        for i, (pa, _, sa, ea) in enumerate(nums):
            for pb, _, sb, eb in nums[i + 1:i + 3]:
                between = clause[ea:sb]
                said_same = SAMENESS.search(between + " ".join(WORD.findall(clause[eb:])[:4]))
                if pa != pb or len(WORD.findall(between)) > NEAR or between.strip() == MATH:
                    continue
                if re.fullmatch(r"\s+(?:and|to)\s+", between) and RANGE.search(clause[:sa]):
                    found.append(f"the range {pa} .. {pb} has equal ends")
                elif comparatives and not said_same:
                    found.append(f"{pa} and {pb} print the same, compared with {comparatives[0]!r}")
    return found


def test_equal_numbers_comparator_flags():
    for s in ["The slope difference is smaller (−0.30 against −0.30) than the pooled one.",
              "The OLS SE is too optimistic: 1.60 against 1.60.",
              "g00 rises from 3.75 to 3.75 when w is added.",
              "The mean of age ranges from 11.00 to 11.00.",
              "Clusters hold between 4 and 4 measurements.",
              "The smallest child (n_j = 4) is far from the largest (n_j = 4).",
              "Method 2a gives 1.25, larger than the 1.25 of Method 1.",
              "The slope variance is 0.001, against 0.001 in the random-coefficients model.",
              "The weights are fairly equal: the largest child gets 1.00 times the weight of the "
              "smallest, against 1.00 times under weighting by sample size.",
              "The factor for the smallest (n 4) is 0.753 and for the largest (n 4) 0.753."]:
        assert equal_numbers_compared(s), s


def test_equal_numbers_comparator_accepts():
    for s in ["The slope difference is smaller (−0.30 against −0.41).",
              "Both methods give the same slope (−0.30 and −0.30).",
              "The OLS SE is not larger (1.60 and 1.60).",
              "Clusters hold between 4 and 9 measurements, more than 2 on average.",
              "Figure 4.2 shows 4.2 more schools.",                  # a reference, not a number
              "The slopes are equal (0.50 and 0.50); the SE is larger (0.21 against 0.12).",
              "The estimates are 2.5 and 2.5, the same at this precision, and more precise.",
              "The 27 children, measured 4 times from 8 to 14, grow more than 2 mm.",
              f"The identity is 454 {MATH} 454 rather than {MATH}.",
              "Public schools are 5.11 points lower (p < 0.0001), and their mean slope is steeper "
              "by 3.39 (p < 0.0001)."]:
        assert not equal_numbers_compared(s), (s, equal_numbers_compared(s))


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDS)
def test_no_equal_numbers_compared_as_different(name, tmp_path_factory):
    work = case_book(tmp_path_factory, name)
    found = {}
    for page, html in pages(work, name).items():
        bad = [f"{s}  <-  {'; '.join(r)}" for s in sentences(html) if (r := equal_numbers_compared(s))]
        if bad:
            found[page] = bad
    assert not found, json.dumps(found, indent=1, ensure_ascii=False)


# --- the growth study (data/raw/orthodont, profile orthodont) ---------------------------------

def test_orthodont_profile_reads_the_growth_study(config):
    """The profile `orthodont` merges nlme's Orthodont as exported by make_orthodont.R: 27
    children (16 boys, 11 girls), each measured at ages 8, 10, 12 and 14."""
    from hlm.config import get_profile
    from hlm.data import merge
    from hlm.sample import with_data

    profile = with_data(get_profile(config, "orthodont"))
    frame = merge(profile).frame
    assert len(frame) == 108 and frame["Subject"].nunique() == 27
    assert (frame.groupby("Subject")["age"].apply(sorted).map(tuple) == (8, 10, 12, 14)).all()
    sexes = frame.groupby("Subject")["Sex"].first().value_counts().to_dict()
    assert sexes == {"Male": 16, "Female": 11}
    assert profile.cluster_plural == "children" and profile.roles["y"].unit == "mm"
    assert (ROOT / "data" / "raw" / "orthodont" / "make_orthodont.R").exists()
