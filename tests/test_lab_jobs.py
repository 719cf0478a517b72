"""rules/lab.smk: the bootstrap's blocks as DAG jobs, run here and through a cluster
executor (Snakemake's generic cluster executor with profiles/local-cluster, whose
"submit" command runs each job script on this machine): the same numbers both ways."""
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
"""


def test_cluster_jobs_give_the_numbers_of_the_local_run(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_cluster_generic")
    work = copy_project(tmp_path, COPY + ["data/raw", "profiles"])
    (work / "small.yaml").write_text(SMALL)
    result = work / "data/fits/hsb40/bootstrap/random_slope.json"

    snakemake(work, "lab", "--configfile", "small.yaml")
    local = json.loads(result.read_text())
    assert local["replicates"] == 24 and local["blocks"] == 3 and 0 < local["p"] <= 1

    shutil.rmtree(work / "data/fits/hsb40/bootstrap")
    snakemake(work, "lab", "--configfile", "small.yaml", "--profile", "profiles/local-cluster")
    assert json.loads(result.read_text()) == local
    submitted = (work / "logs/cluster/submitted.txt").read_text().split()
    assert sorted(s.split(".")[1] for s in submitted) == ["bootstrap", "bootstrap_block", "bootstrap_block",
                                                          "bootstrap_block"]
