"""Generate docs/workbook.md from model/schema.py (the README sheet of the template says the same).

python -m model.report.docs            # rewrite docs/workbook.md
python -m model.report.docs --check    # exit 1 when the committed file is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from model.report.template import column_doc, setting_default
from model.schema import (
    INPUT_SHEETS,
    MAX_ABS_NUMBER,
    MAX_CODE_LENGTH,
    MAX_TEXT_LENGTH,
    NUMBER_FORMATS,
    OUTPUTS,
    SCENARIOS_SHEET,
    SETTINGS,
    SUMMARY_METRICS,
)

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "workbook.md"


def _cell(text: object) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out


def render() -> str:
    lines = [
        "# The workbook contract",
        "",
        "<!-- Generated from model/schema.py by `python -m model.report.docs`; do not edit by hand. -->",
        "",
        "`sourcing template FILE` writes a workbook with these sheets, example rows, drop-down code lists "
        "and the settings with their defaults. Sheet and column names match ignoring case, surrounding "
        "spaces and spaces/hyphens versus underscores; extra sheets and columns are ignored. The first "
        "non-blank row of a sheet is its header. A blank cell is missing, never zero.",
        "",
        f"Limits on every cell: numbers within ±{MAX_ABS_NUMBER:g}, codes up to {MAX_CODE_LENGTH} "
        f"characters, text up to {MAX_TEXT_LENGTH} characters.",
        "",
        "## Input sheets",
        "",
    ]
    for spec in (*INPUT_SHEETS, SCENARIOS_SHEET):
        lines.append(f"### {spec.name}{' (optional)' if spec.optional else ''}")
        lines.append("")
        lines.append(spec.help + (f" One row per {', '.join(spec.key)}." if spec.key else ""))
        lines.append("")
        rows = []
        for col in spec.columns:
            doc = column_doc(col)
            rows.append(
                [
                    f"`{col.name}`",
                    doc["type"],
                    doc["unit"],
                    doc["required"],
                    doc["allowed"],
                    doc["help"],
                ]
            )
        lines += _table(
            ["column", "type", "unit", "required / blank means", "allowed values", "meaning"], rows
        )
        if spec.examples:
            lines += ["", "Example:", ""]
            lines += _table(
                spec.column_names, [["" if v is None else v for v in row] for row in spec.examples]
            )
        lines.append("")
    lines += [
        "## Settings",
        "",
        "One row per setting in the Settings sheet (`setting`, `value`); a missing "
        "setting or a blank value takes the default.",
        "",
    ]
    rows = []
    for s in SETTINGS:
        allowed = (
            ", ".join(s.choices)
            if s.choices
            else (f">= {s.minimum:g}" if s.minimum is not None else "")
        )
        rows.append([f"`{s.name}`", s.kind, setting_default(s), allowed, s.help])
    lines += _table(["setting", "type", "default", "allowed values", "meaning"], rows)
    lines += [
        "",
        "## Output sheets",
        "",
        "Every output sheet of every command is declared in `model/schema.py` (`OUTPUTS`): its columns "
        "in order, each with a number format and a unit (a literal, or where it comes from: "
        "`Commodities.unit`). The writer formats by these declarations, the README sheet of every "
        "output says the same, and a test checks that every table built matches its declaration. "
        "`sourcing solve` writes the `solve` sheets (with `--write-back`, into the input workbook "
        "itself, each name prefixed `Plan `). Analysts build formulas and pivots on these names.",
        "",
        "Number formats:",
        "",
    ]
    lines += _table(["format", "Excel number format"], [[f"`{k}`", f"`{v}`"] for k, v in NUMBER_FORMATS.items()])
    lines.append("")
    for spec in OUTPUTS.values():
        commands = ", ".join(f"`{c}`" for c in spec.commands)
        lines += [f"### {spec.name}", "", f"{spec.help} Written by {commands}."
                  + (f" One row per {spec.row}." if spec.row else ""), ""]
        if spec.columns:
            lines += _table(["column", "format", "unit", "meaning"],
                            [[f"`{c.name}`", c.format, c.unit, c.help] for c in spec.columns])
            lines.append("")
        if spec.name == "Summary":
            lines += ["Metrics, in order (decision figures first):", ""]
            lines += _table(["metric", "format", "unit", "meaning"],
                            [[f"`{m}`", f, u, h] for m, (f, u, h) in SUMMARY_METRICS.items()])
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is out of date; run `python -m model.report.docs`", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
