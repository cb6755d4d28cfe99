"""What a Slurm grading is: the batch split into shards, the job options, and where everything
goes in the output folder. Saved as ``slurm/plan.json`` so that the merge, ``resubmit`` and
``wait`` (other processes, maybe on other nodes) all read the same facts."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers.settings import COURSE_EPOCHS
from kit.grade.discover import find_submissions
from kit.grade.errors import GradeUsageError
from kit.grade.registry import exercise_names, load_exercises
from kit.grade.run import QUICK_EPOCHS, measured_seconds
from kit.grade.shard import select_shard

SLURM_DIR = "slurm"  # scripts, plan and logs, inside the output folder
PARTS_DIR = "parts"  # one finished shard output per shard, inside the output folder
PLAN_FILE = "plan.json"
MISSING_FILE = "MISSING.md"
SHARDS_SCRIPT = "shards.sbatch"
MERGE_SCRIPT = "merge.sbatch"
JOB_NAME = "kit-grade"  # the shards' Slurm job name and Kubernetes Job name
RUNNING_SUFFIX = ".running-"  # a part being written: <part>.running-<job or pod>, renamed to <part> when complete
DEFAULT_MEM = "8G"  # per shard task, when --mem is not given
# A shard's default time limit: TIME_FACTOR times its estimate plus TIME_SLACK_SECONDS.
TIME_FACTOR = 2
TIME_SLACK_SECONDS = 600
TIME_RULE = f"{TIME_FACTOR} x the estimate + {TIME_SLACK_SECONDS // 60} min"  # as the help text states it
# A submission whose solution has no recorded time (kernel start, loading, checks) costs about this.
FLOOR_SECONDS = 30.0


@dataclass
class JobOptions:
    """The ``#SBATCH`` options an HPC user sets; None leaves a site's default."""

    partition: str | None = None
    account: str | None = None
    time: str | None = None  # per shard, Slurm's [D-]HH:MM:SS
    mem: str | None = None  # per shard task, e.g. 8G
    cpus_per_task: int = 1
    max_running: int | None = None  # the array's %K
    extra: list[str] = field(default_factory=list)  # whole "#SBATCH ..." option texts, e.g. "--qos=short"


@dataclass
class Shard:
    """One array task: what it grades (its learners and exercises) and where it reports."""

    index: int
    submissions: list[str]  # paths relative to the submissions folder
    learners: list[str]
    exercises: list[str]


@dataclass
class Plan:
    out: str  # absolute output folder
    submissions: str  # absolute submissions folder
    count: int  # N shards
    grade_args: list[str]  # passed to every `kit grade ... --shard i/N`
    python: str  # the interpreter of the kit's environment, on the nodes as here
    options: JobOptions
    shards: list[Shard]
    seconds_per_shard: float  # estimated
    jobs: list[str] = field(default_factory=list)  # job ids submitted so far, in order

    @property
    def root(self) -> Path:
        return Path(self.out)

    def part(self, index: int) -> Path:
        return self.root / PARTS_DIR / part_name(index, self.count)

    def log(self, index: int | None) -> Path:
        """A shard's log (every attempt appends to it); None: the merge job's."""
        name = "merge.log" if index is None else log_name(index)
        return self.root / SLURM_DIR / "logs" / name

    def script(self, name: str) -> Path:
        return self.root / SLURM_DIR / name


def part_name(index: int | str, count: int) -> str:
    """A shard's part folder; ``index`` may be a shell expression such as ``"$shard"``."""
    return f"shard-{index}-of-{count}"


def log_name(index: int | str) -> str:
    """A shard's log file; ``index`` may be a Slurm filename pattern such as ``"%a"``."""
    return f"shard-{index}.log"


def default_time(seconds: float) -> str:
    """The time limit of a shard estimated to take ``seconds``, as Slurm writes it."""
    return slurm_time(TIME_FACTOR * seconds + TIME_SLACK_SECONDS)


def save(plan: Plan) -> Path:
    path = plan.root / SLURM_DIR / PLAN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(plan), indent=1) + "\n")
    tmp.replace(path)
    return path


def load(out: Path) -> Plan:
    path = out / SLURM_DIR / PLAN_FILE
    if not path.is_file():
        raise GradeUsageError(f"{out} has no {SLURM_DIR}/{PLAN_FILE}: not the output folder of `kit slurm submit`")
    raw = json.loads(path.read_text())
    raw["options"] = JobOptions(**raw["options"])
    raw["shards"] = [Shard(**shard) for shard in raw["shards"]]
    return Plan(**raw)


def estimated_seconds(solutions: Path, only: list[str] | None, quick: bool) -> dict[str, float]:
    """Per exercise, the grading time of one submission: the solution's recorded run time (quick
    mode scales its trainings down to QUICK_EPOCHS of COURSE_EPOCHS), at least FLOOR_SECONDS."""
    estimate = {}
    for name, exercise in load_exercises(solutions, only).items():
        total = sum(measured_seconds(exercise.notebook).values())
        if quick:
            total *= QUICK_EPOCHS / COURSE_EPOCHS
        estimate[name] = max(FLOOR_SECONDS, total)
    return estimate


def split(submissions: Path, solutions: Path, only: list[str] | None, count: int | None, quick: bool,
          target_seconds: float, cpus: int) -> tuple[list[Shard], float]:
    """The shards, as `kit grade --shard i/N` will select them, and the estimated wall seconds of the
    largest one; ``count`` None: as many as keep every shard under ``target_seconds``."""
    subs = find_submissions(submissions, exercise_names(solutions))
    if only:
        subs = [s for s in subs if s.exercise in only]
    if not subs:
        raise GradeUsageError(f"no notebooks found in {submissions}")
    cost = estimated_seconds(solutions, only, quick)
    each = [cost.get(s.exercise, FLOOR_SECONDS) for s in subs]
    groups = len({s.key for s in subs})
    if count is None:
        count = min(groups, max(1, math.ceil(sum(each) / cpus / target_seconds)))
    if count > groups:
        raise GradeUsageError(f"--shards {count}: the batch has only {groups} learner/exercise pair(s)")
    shards, longest = [], 0.0
    for index in range(1, count + 1):
        mine = select_shard(subs, index, count)
        longest = max(longest, sum(cost.get(s.exercise, FLOOR_SECONDS) for s in mine) / cpus)
        shards.append(Shard(index, [s.rel for s in mine], sorted({s.learner for s in mine}),
                            sorted({s.exercise or "?" for s in mine})))
    return shards, longest


def slurm_time(seconds: float) -> str:
    """Seconds as Slurm's time limit [D-]HH:MM:SS, rounded up to whole minutes."""
    minutes = max(1, math.ceil(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    text = f"{rest // 60:02d}:{rest % 60:02d}:00"
    return f"{days}-{text}" if days else text
