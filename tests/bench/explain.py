"""EXPLAIN the overdue queries on the bench database: each must range-scan its partial index."""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from tickets.choices import Milestone
from tickets.milestones import MILESTONES
from tickets.models import Ticket
from tickets.selectors import overdue_filter, tickets_overdue

_ACTUAL_ROWS = re.compile(r"actual time=[\d.]+\.\.[\d.]+ rows=(\d+)")
_INDEX_SCAN = r"(Bitmap Index Scan on|(Parallel )?Index (Only )?Scan using)"
_EXECUTION = re.compile(r"Execution Time: ([\d.]+) ms")


@dataclass(frozen=True)
class PlanCheck:
    """One overdue query's plan, and whether it range-scans the milestone's partial index."""

    milestone: str
    query: str
    index: str
    due_field: str
    scan: str  # the node that scans the index, or else the first scan node
    condition: str  # that node's "Index Cond", if any
    rows: int
    execution_ms: float
    plan: str

    @property
    def uses_index(self) -> bool:
        """Whether the index is scanned over a range of the deadline, and no table is read
        from end to end."""
        return (
            self.index in self.scan
            and f"{self.due_field} <" in self.condition
            and "Seq Scan" not in self.plan
        )


def _nodes(plan: str) -> list[str]:
    return [line.strip().removeprefix("->").strip() for line in plan.splitlines()]


def _scan(plan: str, index: str) -> tuple[str, str]:
    """Return the scan node of ``index`` (or the first scan node) and its index condition."""
    lines = _nodes(plan)
    at = next(
        (n for n, line in enumerate(lines) if re.match(rf"{_INDEX_SCAN} {index}\b", line)), None
    )
    if at is None:
        at = next((n for n, line in enumerate(lines) if "Scan" in line), 0)
    condition = next(
        (line for line in lines[at + 1 :] if line.startswith("Index Cond:")),
        "",
    )
    return lines[at].split("  (cost=")[0], condition


def _check(milestone: Milestone, query: str, queryset: QuerySet[Ticket]) -> PlanCheck:
    index = f"ticket_{milestone.value}_overdue_idx"
    plan = queryset.explain(analyze=True, buffers=True)
    scan, condition = _scan(plan, index)
    rows = _ACTUAL_ROWS.search(plan)
    execution = _EXECUTION.search(plan)
    return PlanCheck(
        milestone=milestone.value,
        query=query,
        index=index,
        due_field=MILESTONES[milestone].due_field,
        scan=scan,
        condition=condition,
        rows=int(rows.group(1)) if rows else -1,
        execution_ms=float(execution.group(1)) if execution else float("nan"),
        plan=plan,
    )


def overdue_plans(*, now: datetime) -> list[PlanCheck]:
    """EXPLAIN (ANALYZE, BUFFERS) each milestone's overdue filter and its selector."""
    checks = []
    for milestone in Milestone:
        checks.append(
            _check(
                milestone,
                "filter(overdue_filter())",
                Ticket.objects.filter(overdue_filter(milestone=milestone, now=now)),
            )
        )
        checks.append(
            _check(milestone, "tickets_overdue()", tickets_overdue(milestone=milestone, now=now))
        )
    return checks
