"""The blameless check: flag wording that puts a person, rather than the system, at the
centre of a failure, and suggest which way to rewrite it.

A heuristic, not a judge: it looks for known blame phrases ("human error", "should have",
"careless", …) and for a known person's name (or he / she) as the subject of a failure
verb. The names come from the incident's record (actors, participants, action-item
owners), so "alice forgot to…" is caught while "the pipeline failed" is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from console.reports import record
from console.store import Incident, TimelineEvent


@dataclass(frozen=True)
class BlameFinding:
    line: int  # 1-based line in the checked text
    column: int  # 1-based column of the match
    match: str  # the words that were flagged
    rule: str
    suggestion: str  # which way to rewrite
    text: str  # the whole line, stripped
    seq: int | None = None  # the timeline event the text came from, when known

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_RULES: tuple[tuple[str, str, str], ...] = (
    (
        "human-error",
        r"\bhuman[- ]errors?\b",
        "Name the conditions that made the slip possible (a missing guard, an unclear tool, no "
        "validation) and the action item that removes them.",
    ),
    (
        "hindsight",
        r"\b(?:should|could|would|ought to)\s+(?:have|'ve)\b|\bshould'?ve\b",
        "Hindsight: say what the system or process lacked at the time and what now adds it, "
        "instead of what someone should have done.",
    ),
    (
        "judgement",
        r"\b(?:careless(?:ly|ness)?|negligen(?:t|ce)|sloppy|lazy|incompetent|"
        r"stupid|reckless(?:ly)?|irresponsible|inattentive|dumb|clueless)\b",
        "Judges a person: describe the action, what was known at the time and why it made "
        "sense then.",
    ),
    (
        "fault",
        r"\b(?:to blame|blamed?|blaming|at fault|fault of|(?:his|her|their)\s+fault|"
        r"'s\s+fault)\b",
        "Blameless reviews look for causes in systems: describe the gap that allowed it.",
    ),
    (
        "failure-idiom",
        r"\b(?:dropped the ball|screwed up|messed up|(?:didn't|did not) bother|"
        r"failed to (?:notice|check|follow|read)|forgot to|neglected to|"
        r"not paying attention)\b",
        "Say what made the step easy to miss (no checklist, no alert, no automation) and add "
        "that as an action item.",
    ),
)
_FAILURE_VERBS = (
    r"(?:broke|forgot|failed|missed|ignored|caused|deleted|dropped|"
    r"misconfigured|overlooked|neglected|skipped|botched|(?:didn't|did not|"
    r"never)\s+\w+|should(?:n't)?)"
)
_ADVERBS = r"(?:(?:just|simply|again|also|then|accidentally|mistakenly|wrongly)\s+)?"
_PERSON_SUGGESTION = (
    "A person is the subject of a failure: make the system or the step the "
    'subject ("the deploy ran without a schema check"), not who ran it.'
)
_OWNED_SUGGESTION = (
    "Attributes the failure to a person: describe the decision, the "
    "information available then, and the safeguard that was missing."
)


def _compiled(names: Iterable[str]) -> list[tuple[str, re.Pattern[str], str]]:
    rules = [(rid, re.compile(rx, re.I), sug) for rid, rx, sug in _RULES]
    people = sorted({n for n in names if len(n) >= 3}, key=len, reverse=True)
    who = "|".join([*(re.escape(n) for n in people), "he", "she"])
    rules.append(
        (
            "person-subject",
            re.compile(rf"\b(?:{who})\s+{_ADVERBS}{_FAILURE_VERBS}\b", re.I),
            _PERSON_SUGGESTION,
        )
    )
    owned = "|".join([*(re.escape(n) for n in people), "his", "her"])
    rules.append(
        (
            "person-owned",
            re.compile(
                rf"\b(?:{owned})(?:'s)?\s+(?:mistake|error|fault|oversight|"
                rf"screw-?up|negligence)\b",
                re.I,
            ),
            _OWNED_SUGGESTION,
        )
    )
    return rules


_NEGATION = re.compile(r"\b(?:nobody|no one|not|never|no)\b[\w\s]{0,12}$", re.I)


def _negated(line: str, start: int) -> bool:
    """ "Nobody is to blame", "not careless": a denial of blame is not blame."""
    return bool(_NEGATION.search(line[max(0, start - 24) : start]))


def person_names(incident: Incident | None, events: Sequence[TimelineEvent]) -> list[str]:
    """Names of people in the record, with first names split off ``alice.smith`` or
    ``Alice Smith`` so either form is recognised."""
    names = record.participants(events, incident.data if incident else None)
    names += [it.owner for it in record.action_items(events) if it.owner]
    out: list[str] = []
    for n in names:
        for candidate in (n, *re.split(r"[.\s_@-]+", n)[:1]):
            if candidate and record.is_person(candidate) and candidate not in out:
                out.append(candidate)
    return out


def check_text(text: str, *, names: Iterable[str] = ()) -> list[BlameFinding]:
    """Every blame-oriented phrase in ``text``, by line (1-based) and column, in order.

    Overlapping matches of different rules on the same words are all reported; a rule
    reports each span once. Empty text gives no findings."""
    rules = _compiled(names)
    findings: list[BlameFinding] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for rid, rx, suggestion in rules:
            for m in rx.finditer(line):
                if _negated(line, m.start()):
                    continue
                findings.append(
                    BlameFinding(lineno, m.start() + 1, m.group(0), rid, suggestion, line.strip())
                )
    findings.sort(key=lambda f: (f.line, f.column, f.rule))
    return findings


def check_events(
    events: Sequence[TimelineEvent], *, names: Iterable[str] = ()
) -> list[BlameFinding]:
    """Findings in the written words of the record (notes, action items, incident updates),
    each carrying the event's ``seq``; ``line`` is the line within that event's text."""
    names = list(names)
    out: list[BlameFinding] = []
    for e in events:
        if e.kind not in ("note", "action_item") and not e.kind.startswith("incident."):
            continue
        texts = [e.message]
        if e.kind == "action_item":
            texts.append(str(e.payload.get("what") or ""))
        seen = set()
        for t in texts:
            for f in check_text(t, names=names):
                key = (f.rule, f.match.lower())
                if key not in seen:
                    seen.add(key)
                    out.append(
                        BlameFinding(
                            f.line, f.column, f.match, f.rule, f.suggestion, f.text, seq=e.seq
                        )
                    )
    return out


def check_incident(incident: Incident, events: Sequence[TimelineEvent]) -> list[BlameFinding]:
    """What the TUI review screen warns about: findings in the incident's own notes, with
    the names of the people in its record."""
    return check_events(events, names=person_names(incident, events))


def attribute(
    findings: Sequence[BlameFinding], events: Sequence[TimelineEvent], *, names: Iterable[str] = ()
) -> list[BlameFinding]:
    """Attach to each document finding the ``seq`` of the event its words came from (the
    first event whose text has the same finding), so a user can fix the source note."""
    by_key: dict[tuple[str, str], int] = {}
    for f in check_events(events, names=names):
        by_key.setdefault((f.rule, f.match.lower()), f.seq)  # type: ignore[arg-type]
    return [
        BlameFinding(
            f.line,
            f.column,
            f.match,
            f.rule,
            f.suggestion,
            f.text,
            by_key.get((f.rule, f.match.lower())),
        )
        for f in findings
    ]


def check_postmortem(
    incident: Incident, events: Sequence[TimelineEvent], **render_options: Any
) -> list[BlameFinding]:
    """Check the rendered Markdown post-mortem: findings carry the document's line numbers
    and, where the words came from a note, the ``seq`` of that timeline event.
    ``render_options`` go to ``render_postmortem`` (``now`` is required)."""
    from console.reports.postmortem import render_postmortem

    names = person_names(incident, events)
    doc = render_postmortem(incident, events, fmt="md", **render_options)
    return attribute(check_text(doc, names=names), events, names=names)
