"""The ``kit grade`` options for LMS downloads, and the steps they add before and after grading."""

from __future__ import annotations

import argparse
from pathlib import Path

from kit.grade import rows as R
from kit.grade.class_report import ClassInfo
from kit.grade.class_report import write as write_class_report
from kit.grade.discover import Submission
from kit.grade.errors import GradeUsageError
from kit.lms import outputs
from kit.lms.ingest import CHOICES, STAGING, Staged, detect, stage, submissions
from kit.lms.safe_unzip import Download


def _points(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("learning-management systems (docs/GRADING.md)")
    group.add_argument("--lms", choices=CHOICES, default=None,
                       help="SUBMISSIONS is an LMS download (zip or folder); default auto: told by its names, "
                            "a folder without any LMS's names is read in the kit's own layouts (folder)")
    group.add_argument("--roster", type=Path, default=None,
                       help="the LMS's own export to fill in: Canvas gradebook CSV, Moodle grading worksheet")
    group.add_argument("--points", type=_points, default=None,
                       help="the LMS assignment's points: every check and total scaled to it")
    group.add_argument("--lms-assignment", default=None,
                       help="Canvas: the gradebook column to fill, 'Title (assignment id)', its title or its id")
    group.add_argument("--lms-out", type=Path, default=None, help="folder for the LMS files (default: OUT/lms)")


def lms_of(args: argparse.Namespace) -> str:
    return str(args.lms) if args.lms else "auto"


def stage_download(args: argparse.Namespace) -> Staged | None:
    """The download staged under --out, or None for the kit's own folder layouts (a folder that
    no LMS's names are recognised in, or ``--lms folder``)."""
    lms = lms_of(args)
    if lms == "auto" and args.submissions.is_dir():
        lms = detect(Download(args.submissions))
    if lms == "folder":
        if args.submissions.is_file():
            raise GradeUsageError(f"{args.submissions} is a file: --lms folder needs a folder")
        if args.roster is not None:
            raise GradeUsageError("--roster needs an LMS download (--lms canvas or moodle)")
        return None
    folder, inbox = _lms_dir(args).resolve(), args.submissions.resolve()
    if folder == inbox or inbox in folder.parents:
        raise GradeUsageError(f"--lms-out {folder} is inside the download; choose a folder outside it")
    return stage(args.submissions, lms, _lms_dir(args) / STAGING)


def _lms_dir(args: argparse.Namespace) -> Path:
    return args.lms_out if args.lms_out is not None else args.out / "lms"


def find(staged: Staged, names: list[str]) -> list[Submission]:
    return submissions(staged, names)


def finish(args: argparse.Namespace, staged: Staged | None, rows: list[R.Row]) -> list[R.Row]:
    """After grading, before the reports: the late flag on the rows, the LMS files and report."""
    if staged is None:
        return rows
    rows = outputs.mark_late(rows, staged)
    people = outputs.learners(rows, staged, args.points)
    folder = _lms_dir(args)
    notes = outputs.write_lms_files(staged, people, folder, args.roster, args.points, args.lms_assignment)
    outputs.write_learners_csv(people, folder / "learners.csv")
    (folder / "lms_report.md").write_text(outputs.report_text(staged, people, notes), encoding="utf-8")
    return rows


def class_report(args: argparse.Namespace, staged: Staged | None, rows: list[R.Row],
                 settings: dict[str, object]) -> Path:
    """OUT/class_report.html, with the LMS's display names, late flags and skipped entries."""
    if staged is None:
        info = ClassInfo(names={}, points=args.points)
    else:
        learners = staged.learners()
        info = ClassInfo(names={lid: e.display_name for lid, e in learners.items()},
                         late=frozenset(lid for lid, e in learners.items() if e.late), points=args.points,
                         skipped=tuple((s.member, s.reason) for s in staged.skipped), lms=staged.lms)
    return write_class_report(args.out, rows, settings, info)
