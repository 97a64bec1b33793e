"""The rules a care and support plan must meet, checked when a line is written and again at
submission and approval. Each finding has a machine-readable `code` and a sentence the
person understands; the refusal names them all."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from app.domain_errors import RuleViolation
from budgets.funding.models import Budget

# Never payable from a personal health budget, whatever the plan says. Matched as whole
# words in a line's description; the category list itself has no such entries.
NEVER_ALLOWED: dict[str, tuple[str, tuple[str, ...]]] = {
    "alcohol": ("alcohol", ("alcohol", "beer", "wine", "lager", "spirits", "vodka", "whisky")),
    "tobacco": ("tobacco", ("tobacco", "cigarette", "cigarettes", "cigars", "cigar")),
    "gambling": ("gambling", ("gambling", "betting", "bets", "casino", "lottery", "bingo")),
    "debt": ("repaying debt", ("debt", "debts", "loan repayment", "arrears", "overdraft")),
    "illegal": ("anything illegal", ("illegal", "unlawful")),
    "primary_care": (
        "GP or dental care (the NHS provides it free)",
        ("gp", "general practitioner", "dentist", "dental", "doctor's appointment"),
    ),
    "emergency_care": (
        "emergency or urgent care (the NHS provides it free)",
        ("a&e", "emergency", "urgent care", "ambulance"),
    ),
}
_PATTERNS = {
    ground: re.compile(r"(?<![\w&])(" + "|".join(re.escape(w) for w in words) + r")(?![\w&])", re.I)
    for ground, (_, words) in NEVER_ALLOWED.items()
}


@dataclass(frozen=True)
class Finding:
    """One broken rule: what, in words a person understands, and which line."""

    code: str
    detail: str
    line_id: str | None = None


@dataclass(frozen=True)
class LineFacts:
    """What the rules need to know about a line (written or about to be)."""

    id: str | None
    category: str
    description: str
    start_date: date
    end_date: date
    funding_stream_id: str
    planned_total_pence: int
    outcome_positions: tuple[int, ...]
    pays_household_family_member: bool
    household_agreement_recorded: bool


def check_line(line: LineFacts, budget: Budget) -> list[Finding]:
    """Rules about one line on its own."""
    findings = []
    for ground, pattern in _PATTERNS.items():
        if pattern.search(line.description):
            findings.append(
                Finding(
                    "never-allowed-item",
                    f"A personal health budget can never pay for {NEVER_ALLOWED[ground][0]}.",
                    line.id,
                )
            )
    stream = next((s for s in budget.streams if s.id == line.funding_stream_id), None)
    if stream is None:
        findings.append(
            Finding("unknown-funding-stream", "Choose a funding stream of this budget.", line.id)
        )
    elif line.category in stream.excluded_categories:
        findings.append(
            Finding(
                "category-not-payable-from-stream",
                f"This funding stream cannot pay for {line.category.replace('_', ' ')}; "
                "choose another stream or item.",
                line.id,
            )
        )
    if line.start_date < budget.period_start or line.end_date > budget.period_end:
        findings.append(
            Finding(
                "line-outside-budget-period",
                f"Dates must fall within the budget period, {budget.period_start.isoformat()} "
                f"to {budget.period_end.isoformat()}.",
                line.id,
            )
        )
    return findings


def check_totals(lines: list[LineFacts], *, allocated_by_stream: dict[str, int]) -> list[Finding]:
    """The plan costs no more than the budget, nor any stream more than its amount."""
    findings = []
    total = sum(line.planned_total_pence for line in lines)
    budget_total = sum(allocated_by_stream.values())
    if total > budget_total:
        findings.append(
            Finding(
                "plan-exceeds-budget",
                f"The plan costs {total / 100:.2f} but the budget is {budget_total / 100:.2f}.",
            )
        )
    for stream_id, allocated in allocated_by_stream.items():
        stream_total = sum(
            line.planned_total_pence for line in lines if line.funding_stream_id == stream_id
        )
        if stream_total > allocated:
            findings.append(
                Finding(
                    "plan-exceeds-funding-stream",
                    f"Lines paid from one funding stream cost {stream_total / 100:.2f}, "
                    f"more than its {allocated / 100:.2f}.",
                )
            )
    return findings


def check_for_submission(lines: list[LineFacts], *, outcome_count: int) -> list[Finding]:
    """Rules only a complete plan must meet."""
    findings = []
    if outcome_count == 0:
        findings.append(
            Finding("plan-has-no-outcomes", "Write at least one outcome, in your own words.")
        )
    if not lines:
        findings.append(Finding("plan-has-no-lines", "Add at least one thing to buy."))
    for line in lines:
        if not line.outcome_positions or any(
            not 1 <= p <= outcome_count for p in line.outcome_positions
        ):
            findings.append(
                Finding(
                    "line-without-outcome",
                    "Say which of your outcomes each line helps with.",
                    line.id,
                )
            )
        if line.pays_household_family_member and not line.household_agreement_recorded:
            findings.append(
                Finding(
                    "household-family-payment-needs-agreement",
                    "Paying a family member who lives with you needs the commissioner's "
                    "agreement recorded in the plan first.",
                    line.id,
                )
            )
    return findings


def refuse_if_any(findings: list[Finding]) -> None:
    """Raise one RuleViolation naming the first finding and listing them all."""
    if findings:
        first = findings[0]
        raise RuleViolation(
            first.code, first.detail, findings=[asdict(finding) for finding in findings]
        )


def findings_view(findings: list[Finding]) -> list[dict[str, Any]]:
    return [asdict(finding) for finding in findings]
