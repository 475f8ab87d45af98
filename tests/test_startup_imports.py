"""Issue 10 "start-up counts": `sourcing` imports only what the command needs.

Each check runs a fresh interpreter (imports are per process) and inspects `sys.modules` after a
real run, so it states what was loaded, not how long it took.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from model.cli import LAZY_COMMANDS, import_command, main, summary

ROOT = Path(__file__).resolve().parent.parent
BASE_CASE = ROOT / "inputs" / "base_case.xlsx"

# Never needed to solve a workbook: each is imported by the command or the path that uses it.
HEAVY = (
    "openpyxl",  # write-back, template, formula computation, workbooks with date styles
    "formulas",  # formula computation
    "pyomo",  # the reference formulation
    "dask", "distributed",  # --scheduler
    "watchfiles",  # sourcing watch
    "rapidfuzz",  # "did you mean", only for an unknown code
    "psutil",  # --jobs memory cap
    "pyarrow.parquet",  # --detail full spilling
    "tqdm",  # batch progress bars
    "scipy.stats",
    "matplotlib",
    "ssl", "urllib.request",  # pulled in by xml.sax.saxutils (formula computation)
    "model.batch.commands", "model.batch.hedge", "model.batch.runner", "model.report.commands",
    "model.report.template", "model.report.writeback", "model.watch", "model.diagnose",
    "model.formulation.pyomo_model",
)
# scipy, sparse matrices included: a solve holds its matrix as numpy arrays (model/sparse.py), traces
# China content and finds the LP's parts with highspy and numpy (model/solve/parts.py), so none of
# it loads (scipy.sparse alone costs ~0.09 s of start-up: its array-API shim loads numpy.f2py).
NOT_ON_THE_SOLVE_PATH = ("scipy", "scipy.sparse", "scipy.optimize", "scipy.linalg", "scipy.special", "scipy.fft",
           "scipy.sparse.linalg", "scipy.spatial", "numpy.f2py",
           "pyarrow")  # pandas runs without it until Parquet is written (model/arrow.py)
# What the `sourcing` group itself needs to list its commands or parse a command line: nothing numeric.
NOT_AT_START_UP = (*HEAVY, *NOT_ON_THE_SOLVE_PATH, "numpy", "pandas", "highspy", "lxml",
                   "xlsxwriter", "model.data", "model.api", "model.results")


def loaded_after(code: str, env: dict[str, str] | None = None) -> tuple[set[str], subprocess.CompletedProcess]:
    """Run `code` in a fresh interpreter; the modules loaded when it ends (a module kept out, whose
    entry is None, is not loaded)."""
    script = code + "\nimport json, sys\nprint('MODULES=' + json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)))\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("MODULES=")]
    assert lines, proc.stderr[-3000:]
    return set(json.loads(lines[-1][len("MODULES="):])), proc


def run_in_process(*args: str) -> str:
    """`sourcing ARGS` in the same interpreter as the check, exit code printed."""
    return (f"from model.cli import main\n"
            f"try:\n    code = main({list(args)!r}, standalone_mode=False)\n"
            f"except SystemExit as exc:\n    code = exc.code\n"
            f"print('EXIT=' + str(code or 0))\n")


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> tuple[set[str], subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("startup") / "plan.xlsx"
    modules, proc = loaded_after(run_in_process("solve", str(BASE_CASE), "-o", str(out)))
    return modules, proc, out


def test_import_cli_loads_nothing_numeric():
    modules, _ = loaded_after("import model.cli")
    assert "click" in modules and "model.cli" in modules  # the probe itself works
    assert sorted(m for m in NOT_AT_START_UP if m in modules) == []


def test_help_lists_every_command_without_importing_them():
    modules, proc = loaded_after(run_in_process("--help"))
    assert "EXIT=0" in proc.stdout
    listed = proc.stdout.split("Commands:", 1)[1]
    for name in [*LAZY_COMMANDS, "solve", "validate"]:
        assert f"  {name} " in listed, name
    assert sorted(m for m in NOT_AT_START_UP if m in modules) == []


def test_a_command_help_imports_its_module_only_then():
    modules, proc = loaded_after(run_in_process("hedge", "--help"))
    assert "EXIT=0" in proc.stdout and "--worst-case" in proc.stdout
    assert "model.batch.hedge" in modules
    assert "model.report.commands" not in modules and "model.batch.commands" not in modules


def test_solve_of_the_base_case_writes_its_plan_without_heavy_modules(solved):
    modules, proc, out = solved
    assert "EXIT=0" in proc.stdout, proc.stderr[-3000:]
    assert out.stat().st_size > 10_000 and "plan written to" in proc.stderr
    assert {"highspy", "pandas", "xlsxwriter", "lxml"} <= modules  # it did solve and write
    assert sorted(m for m in HEAVY if m in modules) == []


def test_solve_of_the_base_case_needs_no_scipy(solved):
    modules, _, _ = solved
    assert sorted(m for m in NOT_ON_THE_SOLVE_PATH if m in modules) == []


def test_validate_reads_without_openpyxl_and_still_requires_defusedxml():
    modules, proc = loaded_after(run_in_process("validate", str(BASE_CASE)))
    assert "EXIT=0" in proc.stdout and "valid (" in proc.stderr, proc.stderr[-2000:]
    assert "openpyxl" not in modules and "model.batch.commands" not in modules
    # the same refusal as when openpyxl is loaded, decided by the rule openpyxl.xml applies
    modules, proc = loaded_after(run_in_process("validate", str(BASE_CASE)) +
                                 "import openpyxl.xml\nprint('DEFUSED=' + str(openpyxl.xml.DEFUSEDXML))\n",
                                 env={"OPENPYXL_DEFUSEDXML": "False"})
    assert "EXIT=2" in proc.stdout and "defusedxml is not active" in proc.stderr
    assert "DEFUSED=False" in proc.stdout


def test_every_lazy_summary_is_the_commands_own():
    for name, (target, listed) in LAZY_COMMANDS.items():
        command = import_command(target)
        assert command.name == name, target
        assert listed == summary(command), name


def test_every_feature_command_is_in_the_lazy_table():
    import model.batch.commands
    import model.batch.hedge
    import model.report.commands

    found = {}
    for module in (model.batch.commands, model.batch.hedge, model.report.commands):
        for attr, value in vars(module).items():
            if isinstance(value, click.Command) and value.callback.__module__ == module.__name__:
                found[value.name] = f"{module.__name__}:{attr}"
    assert found == {name: target for name, (target, _) in LAZY_COMMANDS.items()}
    assert {c.name for c in (*model.batch.commands.COMMANDS, *model.report.commands.COMMANDS)} <= set(found)


def test_lookup_imports_and_decorates_like_registration():
    command = main.commands["template"]  # imported now if not before
    assert command is import_command(LAZY_COMMANDS["template"][0])
    assert "Exit codes" in (command.epilog or "")
    assert "batc" not in main.commands and main.get_command(click.Context(main), "batc") is None


def test_reader_epochs_are_openpyxls():
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

    from model.io import package

    assert package.CALENDAR_WINDOWS_1900 == CALENDAR_WINDOWS_1900
    assert package.CALENDAR_MAC_1904 == CALENDAR_MAC_1904
