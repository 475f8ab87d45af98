"""Click commands for what-if batches: batch, frontier, stress, montecarlo."""

from __future__ import annotations

COMMANDS: list = []
