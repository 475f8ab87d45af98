"""Click commands for analyst tools: template."""

from __future__ import annotations

COMMANDS: list = []
