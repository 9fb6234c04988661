"""The blameless check flags blame-oriented wording with its line and a rewrite direction."""

from __future__ import annotations

from console.reports.blameless import (
    check_events,
    check_incident,
    check_postmortem,
    check_text,
    person_names,
)

from .conftest import NOW, at


def rules(text: str, names=("alice", "bob")) -> list[tuple[int, str, str]]:
    return [(f.line, f.rule, f.match) for f in check_text(text, names=names)]


def test_flags_blame_phrases_with_line_and_suggestion():
    text = (
        "The migration ran at 06:30.\n"
        "Root cause: human error.\n"
        "Bob should have checked the schema.\n"
        "A careless change to the pipeline.\n"
    )
    found = check_text(text, names=["bob"])
    assert [(f.line, f.rule) for f in found] == [
        (2, "human-error"),
        (3, "person-subject"),
        (3, "hindsight"),
        (4, "judgement"),
    ]
    for f in found:
        assert f.suggestion and f.column >= 1
    assert found[0].text == "Root cause: human error."
    assert "conditions" in found[0].suggestion


def test_a_person_as_the_subject_of_a_failure():
    assert rules("Alice forgot to rerun the backfill.")[0] == (1, "person-subject", "Alice forgot")
    assert (1, "person-subject", "alice.smith broke") in rules(
        "alice.smith broke the job", names=("alice.smith",)
    )
    assert (1, "person-subject", "he accidentally deleted") in rules("he accidentally deleted it")
    assert (1, "person-owned", "bob's mistake") in rules("It was bob's mistake.")
    assert (1, "person-subject", "Bob did not run") in rules("Bob did not run the check.")


def test_system_subjects_and_denials_are_not_flagged():
    clean = (
        "The pipeline failed silently.\n"
        "The alert missed the rename because no schema check exists.\n"
        "Nobody is to blame; this was not careless.\n"
        "alice rolled back at 06:53 and bob confirmed.\n"
        "Why did the pipeline not fail? Missing columns become nulls.\n"
    )
    assert check_text(clean, names=["alice", "bob"]) == []
    assert check_text("") == []


def test_the_drill_post_mortem_is_clean_and_a_bad_note_is_traced(store, drill_incident):
    inc, events = drill_incident
    assert check_postmortem(inc, events, now=NOW) == []
    assert check_incident(inc, events) == []
    assert {"alice", "bob", "carol"} <= set(person_names(inc, events))
    ev = store.append(
        inc.id,
        "note",
        "Carol should have caught the rename; human error.",
        actor="alice",
        at=at(8, 0),
        payload={"tag": "contributing"},
    )
    events = store.events(inc.id)
    per_event = check_events(events, names=person_names(inc, events))
    assert {(f.seq, f.rule) for f in per_event} == {
        (ev.seq, "person-subject"),
        (ev.seq, "hindsight"),
        (ev.seq, "human-error"),
    }
    found = check_postmortem(inc, events, now=NOW)
    assert {f.rule for f in found} == {"person-subject", "hindsight", "human-error"}
    assert all(f.seq == ev.seq for f in found)
    assert all("Carol should have caught" in f.text for f in found)
    assert all(f.line > 1 for f in found)  # a line in the rendered document
