"""rules/lab.smk: the bootstrap's and the influence's blocks as DAG jobs, run here and through
a cluster executor (Snakemake's generic cluster executor with profiles/local-cluster, whose
"submit" command runs each job script on this machine): the same numbers both ways; the
inference record's parts as jobs, merged into one record."""
import json
import shutil

import pytest

from tests.fixtures.project import COPY, copy_project, snakemake

pytestmark = pytest.mark.slow

SMALL = """lab:
  bootstrap:
    replicates: 24
    block: 8
    seed: 5
    tests:
      random_slope: {h0: ancova, h1: random_coef}
  influence:
    models: [ints_slopes]
    blocks: 2
    exact_top: 3
    exact_max_clusters: 20
"""


def test_cluster_jobs_give_the_numbers_of_the_local_run(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_cluster_generic")
    work = copy_project(tmp_path, COPY + ["data/raw", "profiles"])
    (work / "small.yaml").write_text(SMALL)
    result = work / "data/fits/hsb40/bootstrap/random_slope.json"

    snakemake(work, "lab", "--configfile", "small.yaml")
    local = json.loads(result.read_text())
    assert local["replicates"] == 24 and local["blocks"] == 3 and 0 < local["p"] <= 1

    # 40 clusters, above exact_max_clusters: one-step rows but for 3 refits, shared by 2 jobs
    influence = work / "data/fits/hsb40/influence/ints_slopes.json"
    inf = json.loads(influence.read_text())
    assert inf["clusters"] == 40 and inf["refits"] == 3 and sum(r["exact"] for r in inf["rows"]) == 3

    # the inference record is the merge of its parts, each written by its own job
    from hlm.inference import PARTS
    parts = {p: json.loads((work / f"data/fits/hsb40/inference/{p}.json").read_text()) for p in PARTS}
    merged = json.loads((work / "data/fits/hsb40/inference.json").read_text())
    assert merged == {"dataset": "hsb40", **{p: parts[p][p] for p in PARTS}}

    shutil.rmtree(work / "data/fits/hsb40/bootstrap")
    shutil.rmtree(work / "data/fits/hsb40/influence")
    snakemake(work, "lab", "--configfile", "small.yaml", "--profile", "profiles/local-cluster")
    assert json.loads(result.read_text()) == local
    assert json.loads(influence.read_text()) == inf
    submitted = (work / "logs/cluster/submitted.txt").read_text().split()
    assert sorted(s.split(".")[1] for s in submitted) == ["bootstrap", "bootstrap_block", "bootstrap_block",
                                                          "bootstrap_block", "influence", "influence_block",
                                                          "influence_block"]
