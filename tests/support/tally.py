"""Counting mails against events: expected, delivered, duplicated, lost."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.support.smtp import ReceivedMail

_EVENT_ID = re.compile(r"<([^.>]+)\.follower_email@")
REPORTS: list[dict[str, object]] = []


@dataclass(frozen=True)
class MailTally:
    scenario: str
    expected: int
    delivered: int
    duplicated: int
    lost: int
    unexpected: int

    def __str__(self) -> str:
        return (f"{self.scenario}: expected {self.expected}, delivered {self.delivered}, "
                f"duplicated {self.duplicated}, lost {self.lost}, unexpected {self.unexpected}")


def event_ids(mails: Iterable[ReceivedMail]) -> Counter[str]:
    """How many mails arrived for each event id (read from the Message-ID)."""
    counts: Counter[str] = Counter()
    for mail in mails:
        match = _EVENT_ID.match(str(mail.message["Message-ID"]))
        if match:
            counts[match[1]] += 1
    return counts


def tally(scenario: str, expected_ids: Iterable[str], mails: Iterable[ReceivedMail]) -> MailTally:
    """Compare the mails that arrived with the events that should have been mailed, and keep the
    result for the end-of-run fault report."""
    expected = set(expected_ids)
    counts = event_ids(mails)
    result = MailTally(
        scenario=scenario,
        expected=len(expected),
        delivered=len(expected & counts.keys()),
        duplicated=sum(n - 1 for eid, n in counts.items() if eid in expected and n > 1),
        lost=len(expected - counts.keys()),
        unexpected=sum(n for eid, n in counts.items() if eid not in expected),
    )
    REPORTS.append(asdict(result))
    return result


def write_reports(path: Path) -> None:
    if REPORTS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(REPORTS, indent=2) + "\n")
