"""hlm.book.shell: a chapter's code in an IPython shell of a forked process, with the
outputs a Jupyter kernel gives, and nothing of it left in the calling process."""
import os
import sys
import warnings

import pytest

from hlm.book.shell import CellTimeoutError, DeadKernelError, run_in_child


def _run(tmp_path, *cells, env=None, timeout=30):
    def work(child):
        out = []
        for k, code in enumerate(cells):
            child.send({"at": (k, "cell")})
            out.append(child.run(code))
        return out
    return run_in_child(work, cwd=tmp_path, env=env or dict(os.environ), timeout=timeout)


def test_outputs_in_the_order_a_kernel_sends_them(tmp_path):
    [outputs] = _run(tmp_path, "print('a'); print('b')\nfrom IPython.display import display\n"
                               "display({'text/markdown': '**m**'}, raw=True)\nprint('c')\n6 * 7")
    assert [o["output_type"] for o in outputs] == ["stream", "display_data", "stream", "execute_result"]
    assert outputs[0] == {"output_type": "stream", "name": "stdout", "text": "a\nb\n"}
    assert outputs[1]["data"] == {"text/markdown": "**m**"}
    assert outputs[3]["data"]["text/plain"] == "42"


def test_an_error_is_an_output_with_the_cell_line(tmp_path):
    [ok, bad] = _run(tmp_path, "x = 1", "y = 2\nz = x / 0")
    assert ok == []
    err = bad[-1]
    assert err["output_type"] == "error" and err["ename"] == "ZeroDivisionError"
    assert "line 2" in "\n".join(err["traceback"])


def test_state_carries_over_cells_but_not_into_the_caller(tmp_path):
    before = (os.getcwd(), dict(os.environ), set(sys.modules))
    [_, second] = _run(tmp_path, "import os, sys, json\nos.environ['HLM_SHELL_TEST'] = '1'\nn = 5",
                       "print(n, os.getcwd())", env={**os.environ, "HLM_FROM_JOB": "yes"})
    assert second[0]["text"] == f"5 {tmp_path}\n"
    assert (os.getcwd(), dict(os.environ)) == before[:2]
    assert "HLM_SHELL_TEST" not in os.environ and "HLM_FROM_JOB" not in os.environ


def test_the_job_environment_and_working_directory(tmp_path):
    (tmp_path / "helper_mod_for_shell.py").write_text("VALUE = 'found'\n")
    [out] = _run(tmp_path, "import os, helper_mod_for_shell\nprint(os.environ['HLM_FROM_JOB'], helper_mod_for_shell.VALUE)",
                 env={**os.environ, "HLM_FROM_JOB": "yes"})
    assert out[0]["text"] == "yes found\n"


def test_warnings_show_as_in_a_new_process_whatever_the_caller_does(tmp_path):
    with warnings.catch_warnings(record=True):  # as pytest does around every test
        warnings.simplefilter("ignore")
        [out] = _run(tmp_path, "import warnings\nwarnings.warn('shown')\nwarnings.warn('hidden', ResourceWarning)")
    assert [o["name"] for o in out] == ["stderr"]
    assert "UserWarning: shown" in out[0]["text"] and "hidden" not in out[0]["text"]


def test_a_hung_cell_times_out_and_a_dead_process_is_reported_with_where_it_was(tmp_path):
    with pytest.raises(CellTimeoutError) as hung:
        _run(tmp_path, "x = 1", "import time\nwhile True: time.sleep(0.05)", timeout=1)
    assert hung.value.args[1] == (1, "cell")
    with pytest.raises(DeadKernelError, match="exit code 3") as dead:
        _run(tmp_path, "import os\nos._exit(3)")
    assert dead.value.args[1] == (0, "cell")


def test_an_exception_of_the_work_reaches_the_caller(tmp_path):
    def work(child):
        raise ValueError("from the child")
    with pytest.raises(ValueError, match="from the child"):
        run_in_child(work, cwd=tmp_path, env=dict(os.environ), timeout=10)


def test_figures_open_in_the_caller_are_not_the_chapters(tmp_path):
    import matplotlib
    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    left_open = plt.figure()
    try:
        [out] = _run(tmp_path, "import matplotlib.pyplot as plt\nprint(len(plt.get_fignums()))")
    finally:
        plt.close(left_open)
    assert out[0]["text"] == "0\n"
