"""Self-checks for Exercise 1: linear warmup + cosine annealing (pl_bolts and torch-native), judged
criterion by criterion from the LR the learner's scheduler gives when stepped as Lightning steps it, so
every typical mistake (including pl_bolts 0.7.0's traps) gets its own hint instead of a traceback or a
silently worse accuracy. The evidence and its recording: :mod:`helpers.checks.warmup_cosine_evidence`."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from helpers.checks import warmup_cosine_evidence as ev
from helpers.checks.check import Check, Rule, run_rules
from helpers.checks.context import COURSE_LENGTH, LEARNER_PROBES, JudgeContext, learner_context, wrong_length
from helpers.checks.course_weights import course_accuracy
from helpers.checks.report import CheckReport
from helpers.data import STEPS_PER_EPOCH
from helpers.mistakes import native_factor_mistake, non_whole_warmup
from helpers.schedules import warmup_cosine_lr, warmup_cosine_values
from helpers.settings import BASE_LR, COURSE_EPOCHS, QUICK_EPOCHS, QUICK_EPOCHS_ENV, TARGET_ACCURACY, WARMUP_FRACTION

WARMUP_PERCENT = f"{WARMUP_FRACTION * 100:g} %"  # "25 %", as the messages write it
MIN_EPOCHS = QUICK_EPOCHS  # below this, the warmup is less than one epoch: no shape to judge
END_FRACTION = 0.01  # "decayed to about 0": the last LR is at most 1 % of the base LR
NATIVE_TOL = 1e-9  # the torch-native schedule equals pl_bolts' to rounding
_CONFIGURE_HINT = ("return {'optimizer': optimizer, 'lr_scheduler': {'scheduler': scheduler, 'interval': 'epoch', "
                   "'frequency': 1}}")


def _warmup_epochs(num_epochs: int) -> int:
    return int(WARMUP_FRACTION * num_epochs)


def _curve(run: ev.LRRun | None, epochs: int) -> ev.LRRun:
    """The run recorded for ``epochs`` with its LR as float64; one of the wrong length or with non-finite
    LRs becomes an error (a judge never indexes a curve it cannot trust)."""
    if run is None:
        return ev.LRRun(np.empty(0), error="no LR was recorded for this length")
    if run.error:
        return replace(run, lr=np.empty(0), error=run.error[:400])
    if run.steps_per_epoch < 1 or len(run.lr) != epochs * run.steps_per_epoch or not np.isfinite(run.lr).all():
        return ev.LRRun(np.empty(0), 1, f"the LR recorded for {epochs} epochs is incomplete", run.scheduler)
    return replace(run, lr=run.lr.astype(float))


@dataclass(frozen=True)
class _Shape:
    """A recorded LR curve, and the shape criteria on it: each returns None when it holds, else its hint."""
    lr: np.ndarray
    spe: int  # recorded values per epoch
    num_epochs: int
    base_lr: float
    atol: float  # absolute tolerance: tol relative to the base LR
    cosine_only: bool  # plain CosineAnnealingLR, named in a hint
    bolts: ev.SchedulerInfo | None  # pl_bolts' scheduler: its lengths as set explain a hint
    w: int  # the warmup the exercise asks for, in epochs

    @property
    def top(self) -> int:
        """The first step at the peak (computed once the LR is known to leave 0)."""
        return int(np.argmax(self.lr >= self.lr.max() - self.atol))

    def given(self, *lengths: str) -> str:
        return f" ({', '.join(f'{a}={getattr(self.bolts, a)!r}' for a in lengths)})" if self.bolts else ""

    def leaves_zero(self) -> str | None:
        if not self.lr.max() <= self.atol:  # written so that NaN counts as leaving 0 (other criteria then fail on it)
            return None
        if (b := self.bolts) and b.warmup_epochs == 0 and b.warmup_start_lr == 0:
            return ("warmup_epochs=0 with warmup_start_lr=0 freezes the LR at 0 for the whole run in pl_bolts (it "
                    "keeps multiplying the current LR, which is 0); use warmup_epochs="
                    f"int({WARMUP_FRACTION} * num_epochs)")
        return ("the LR is 0 at every epoch: the warmup never leaves warmup_start_lr. Check warmup_epochs and that the "
                "optimizer was created with the base learning rate")

    def starts_at_zero(self) -> str | None:
        first = self.lr[0]
        if first <= self.atol:
            return None
        if not first >= self.base_lr - self.atol:
            return f"epoch 0 runs at {first:.4g}; the exercise starts the warmup at warmup_start_lr=0.0"
        if self.cosine_only:
            return ("no warmup: this is plain CosineAnnealingLR, which starts at the base LR. Build pl_bolts' "
                    "LinearWarmupCosineAnnealingLR here instead")
        return f"no warmup: epoch 0 already runs at the base LR {first:.4g}; the LR should start at 0"

    def warmup_ends_at_a_quarter(self) -> str | None:
        lr, top, w, n, lengths = self.lr, self.top, self.w, self.num_epochs, self.given("warmup_epochs", "max_epochs")
        rising = len(lr) > 1 and lr[-1] > lr[-2] + self.atol
        if top >= len(lr) - 1 or (rising and top >= len(lr) - self.spe):
            return (f"warmup longer than training{lengths}: the LR is still rising at the last epoch ({n - 1}). "
                    f"warmup_epochs must be a quarter of num_epochs: int({WARMUP_FRACTION} * {n}) = {w}")
        if w - 1 - 1e-9 <= top / self.spe <= max(w, WARMUP_FRACTION * n) + 1e-9:  # per step: 25 % of the steps
            return None
        return (f"the LR peaks at epoch {top / self.spe:.4g}{lengths}; with num_epochs={n} the warmup should "
                f"end at epoch {w - 1}..{w}: warmup_epochs=int({WARMUP_FRACTION} * num_epochs) = {w}")

    def rises_linearly(self) -> str | None:
        steps = np.diff(self.lr[: self.top + 1])
        # Loose on purpose: a per-step warmup sampled once per epoch hits the peak a fraction early.
        if self.top == 0 or ((steps > 0).all() and np.allclose(steps, steps[0], rtol=0,
                                                                atol=max(self.atol, 0.01 * steps[0]))):
            return None
        return "the LR should grow by the same amount every warmup epoch (linear warmup)"

    def peaks_at_base_lr(self) -> str | None:
        peak, w_set = float(self.lr.max()), self.bolts.warmup_epochs if self.bolts else None
        if abs(peak - self.base_lr) <= self.atol:
            return None
        if not peak > self.base_lr:
            return f"the LR only reaches {peak:.4g}: the warmup must end exactly at the base LR (optimizer lr)"
        if isinstance(w_set, float) and not w_set.is_integer():
            return (f"the LR overshoots to {peak:.4g}: warmup_epochs={w_set!r} is not a whole number, so pl_bolts' "
                    "epoch == warmup_epochs branch never fires and the warmup keeps climbing. Use "
                    f"int({WARMUP_FRACTION} * num_epochs)")
        if isinstance(w_set, float):
            return f"the LR overshoots to {peak:.4g}; pass warmup_epochs as an int (got {w_set!r})"
        return f"the LR overshoots to {peak:.4g}, above the base LR {self.base_lr:g}"

    def never_rises_again(self) -> str | None:
        rises_at = np.flatnonzero(np.diff(self.lr[self.top:]) > self.atol)
        if not rises_at.size:
            return None
        return (f"the LR rises again from epoch {(self.top + int(rises_at[0]) + 1) / self.spe:.4g}: the schedule "
                f"ended before training did{self.given('max_epochs')}; pl_bolts climbs back up along the cosine. "
                f"max_epochs must be the training length (num_epochs={self.num_epochs}, self.num_epochs in "
                "configure_optimizers), not a hard-coded number")

    def decays_to_zero(self) -> str | None:
        n, last = self.num_epochs, self.lr[-1]
        # Short runs end a little above 0 even when right: allow twice the closed form's last value.
        expected_last = warmup_cosine_lr(n - 1, base_lr=self.base_lr, warmup_epochs=self.w, max_epochs=n)
        if last <= END_FRACTION * self.base_lr + 2 * expected_last + self.atol:
            return None
        return (f"the last epoch still runs at {last:.4g} ({last / self.base_lr:.0%} of the base LR)"
                f"{self.given('max_epochs')}: the cosine must end at training's end, max_epochs = num_epochs = {n}")

    def equals_closed_form(self) -> str | None:
        total = self.num_epochs * self.spe  # the warmup counted in whole epochs or in steps: either is right
        warmups = sorted(w for w in {self.w * self.spe, _warmup_epochs(total)} if 0 < w < total)
        gaps = [float(np.abs(self.lr - warmup_cosine_values(np.arange(total), base_lr=self.base_lr, warmup_epochs=w,
                                                            max_epochs=total)).max()) for w in warmups]
        if (best := min(gaps, default=math.inf)) <= self.atol:
            return None
        return (f"largest difference from the closed form is {best:.3g}: linear warmup to the base LR over "
                f"epochs 0..{self.w - 1}, then a cosine to 0 at epoch {self.num_epochs} (eta_min=0)")


def _rule(name: str, criterion: Callable[[_Shape], str | None], stop: bool = False) -> Rule[_Shape]:
    return Rule(name, lambda s, _: criterion(s) is None, lambda s: criterion(s) or "", stop=stop)


def _shape_rules(base_lr: float, exact: bool) -> list[Rule[_Shape]]:
    """The shape criteria in report order; ``exact`` adds the comparison with the closed form."""
    rules = [
        _rule("LR leaves 0", _Shape.leaves_zero, stop=True),
        _rule("warmup starts at LR 0 (epoch 0)", _Shape.starts_at_zero),
        _rule(f"warmup ends after {WARMUP_PERCENT} of training", _Shape.warmup_ends_at_a_quarter),
        _rule("warmup rises linearly", _Shape.rises_linearly),
        _rule(f"peak LR equals the base LR {base_lr:g}", _Shape.peaks_at_base_lr),
        _rule("LR never rises again after the peak", _Shape.never_rises_again),
        _rule("cosine decay reaches ≈0 at the last epoch", _Shape.decays_to_zero),
    ]
    return [*rules, _rule("equals warmup + cosine at every epoch", _Shape.equals_closed_form)] if exact else rules


def _judge_shape(report: CheckReport, run: ev.LRRun, num_epochs: int, base_lr: float, *, tol: float = 1e-6,
                 exact: bool = True) -> bool:
    """Add the criteria of linear warmup (25 %) + cosine to 0 on ``run`` to ``report``; True when all held.
    ``tol`` is relative to ``base_lr`` (LRs logged as float32 need a looser one)."""
    if num_epochs < MIN_EPOCHS:
        report.skip("shape of the schedule", f"only {num_epochs} epochs, too few to see a warmup")
        return True
    cosine_only = run.scheduler is not None and run.scheduler.cosine_only
    shape = _Shape(run.lr, run.steps_per_epoch, num_epochs, base_lr, tol * base_lr, cosine_only, run.bolts,
                   _warmup_epochs(num_epochs))
    judged = run_rules(report.title, _shape_rules(base_lr, exact), shape)
    report.criteria += judged.criteria
    return judged.passed


def _first_failing(probes: Sequence[int], judge_at: Callable[[CheckReport, int], bool]) -> tuple[int | None, str]:
    """The first probe length judged wrong, and why: its first failed criterion as "name: hint" (a nameless
    one, e.g. a run that could not be judged at all, by its hint alone)."""
    for probe in probes:
        if not judge_at(sub := CheckReport("probe"), probe):
            failed = sub.failed()
            return probe, (failed[0].name + ": " + failed[0].hint if failed[0].name else failed[0].hint)
    return None, ""


# --------------------------------------------------------------------------- blanks (a) and (c): scheduler functions


def _main_run(evidence: ev.ScheduleEvidence, context: JudgeContext, function: str) -> tuple[CheckReport, ev.LRRun, int]:
    """The report begun at the main length (the learner's, or the course's for the grader)."""
    n = context.main_length(evidence.num_epochs)
    report = CheckReport(f"Check: {function}(optimizer, num_epochs={n})")
    run = _curve(evidence.runs.get(n), n)
    report.add(f"builds a scheduler and steps it through {n} epochs", not run.error, run.error)
    return report, run, n


def _judge_warmup_schedule(evidence: ev.ScheduleEvidence, context: JudgeContext | None = None) -> CheckReport:
    """The shape at the main length, then at every probe length: a hard-coded length fails at some probe."""
    context = context or learner_context()
    report, run, n = _main_run(evidence, context, "make_warmup_scheduler")
    if run.error or not _judge_shape(report, run, n, evidence.base_lr):
        return report

    def judge_at(sub: CheckReport, probe: int) -> bool:
        at = _curve(evidence.runs.get(probe), probe)
        return sub.add("", False, at.error) if at.error else _judge_shape(sub, at, probe, evidence.base_lr)

    failing, cause = _first_failing(context.probe_lengths(n), judge_at)
    at_probe = _curve(evidence.runs.get(failing), failing).scheduler if failing else None
    # WARMUP_FRACTION * num_epochs left as a float is named: it is not a hard-coded length.
    named = non_whole_warmup(at_probe.warmup_epochs, failing) if at_probe and failing else None
    report.add("lengths follow num_epochs", failing is None, named or (
        f"with num_epochs={failing} the schedule is not a {WARMUP_PERCENT} warmup + cosine over {failing} epochs "
        f"({cause}): compute warmup_epochs and max_epochs from the num_epochs argument, with warmup_epochs a whole "
        f"number (int({WARMUP_FRACTION} * num_epochs)), instead of hard-coding them"))
    return report


def _collect_warmup_schedule(make_warmup_scheduler: Callable[..., object], num_epochs: int = COURSE_EPOCHS,
                             base_lr: float = BASE_LR, *, probes: Sequence[int] = LEARNER_PROBES
                             ) -> ev.ScheduleEvidence:
    return ev.schedule_evidence(make_warmup_scheduler, num_epochs, base_lr, probes,
                                "check_warmup_schedule(make_warmup_scheduler, num_epochs=num_epochs)")


# The LR-plot blank, also built for other training lengths (one with a warmup that is not whole).
check_warmup_schedule = Check("check_warmup_schedule", _collect_warmup_schedule, _judge_warmup_schedule,
                              evidence=ev.ScheduleEvidence)


def _bolts_reference(num_epochs: int, base_lr: float) -> np.ndarray:
    """pl_bolts' own LR per epoch (the kit's library, run by whoever judges, never learner code)."""
    from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

    return ev.record_factory(lambda opt, n: LinearWarmupCosineAnnealingLR(
        opt, warmup_epochs=_warmup_epochs(n), max_epochs=n, warmup_start_lr=0.0), num_epochs, base_lr).lr


def _judge_native_schedule(evidence: ev.ScheduleEvidence, context: JudgeContext | None = None) -> CheckReport:
    """Epoch by epoch against pl_bolts, at the main and the probe lengths."""
    context = context or learner_context()
    report, run, n = _main_run(evidence, context, "make_native_scheduler")
    if run.error:
        return report
    module, name = (run.scheduler.module, run.scheduler.name) if run.scheduler else ("", "?")
    report.add("uses torch alone", module.startswith("torch."),
               f"{name} comes from {module}; use torch.optim.lr_scheduler (LambdaLR or SequentialLR)")
    if n < MIN_EPOCHS:
        report.skip("equals pl_bolts at every epoch", f"only {n} epochs")
        return report
    reference, w = _bolts_reference(n, evidence.base_lr), _warmup_epochs(n)
    worst = int(np.argmax(gap := np.abs(run.lr - reference)))
    if not report.add(f"equals pl_bolts at every epoch (max |difference| < {NATIVE_TOL:g})", gap[worst] < NATIVE_TOL,
                      native_factor_mistake(run.lr, n, evidence.base_lr)
                      or f"epoch {worst}: yours {run.lr[worst]:.6g}, pl_bolts {reference[worst]:.6g}. Remember "
                      f"pl_bolts reaches the peak at epoch W-1 = {w - 1} (it divides by W-1) and holds it at epoch W"):
        return report

    def differs(probe: int) -> bool:
        at = _curve(evidence.runs.get(probe), probe)
        return bool(at.error) or np.abs(at.lr - _bolts_reference(probe, evidence.base_lr)).max() >= NATIVE_TOL

    failing = next((probe for probe in context.probe_lengths(n) if differs(probe)), None)
    report.add("lengths follow num_epochs", failing is None,
               f"with num_epochs={failing} your schedule differs from pl_bolts': compute the warmup and the cosine "
               f"from num_epochs (warmup_epochs = int({WARMUP_FRACTION} * num_epochs)) instead of hard-coding lengths")
    return report


def _collect_native_schedule(make_native_scheduler: Callable[..., object], num_epochs: int = COURSE_EPOCHS,
                             base_lr: float = BASE_LR, *, probes: Sequence[int] = LEARNER_PROBES
                             ) -> ev.ScheduleEvidence:
    return ev.schedule_evidence(make_native_scheduler, num_epochs, base_lr, probes,
                                "check_native_schedule(make_native_scheduler, num_epochs=num_epochs)")


# The torch-native blank: compared with pl_bolts' LinearWarmupCosineAnnealingLR epoch by epoch.
check_native_schedule = Check("check_native_schedule", _collect_native_schedule, _judge_native_schedule,
                              evidence=ev.ScheduleEvidence)


# --------------------------------------------------------------------------- blank (b): configure_optimizers


def _returned_hint(c: ev.Configured) -> str:
    if c.form == "optimizer":
        return f"only an optimizer was returned: {_CONFIGURE_HINT}"
    if c.form == "dict":
        return f"the dict has no 'lr_scheduler': {_CONFIGURE_HINT}"
    missing = " (is its return line missing?)" if c.returned_type == "NoneType" else ""
    return f"configure_optimizers returned {c.returned_type}{missing}; {_CONFIGURE_HINT}"


def _scheduler_dict_hint(c: ev.Configured) -> str:
    if c.form == "lists":
        return f"the ([optimizer], [scheduler]) form hides the interval; {_CONFIGURE_HINT}"
    if c.config != "dict":
        return ("'lr_scheduler' is a bare scheduler: wrap it as {'scheduler': scheduler, 'interval': 'epoch', "
                "'frequency': 1} so when it steps is explicit")
    return "the lr_scheduler dict needs the key 'scheduler'"


# The form of what configure_optimizers returned (the ([optimizer], [scheduler]) form is judged from the second row).
_FORM_RULES: tuple[Rule[ev.Configured], ...] = (
    Rule("returns an optimizer and a scheduler", lambda c, _: c.form == "dict" and c.config != "missing",
         _returned_hint, stop=True),
    Rule("returns the Lightning scheduler dict",
         lambda c, _: c.form == "dict" and c.config == "dict" and c.has_scheduler, _scheduler_dict_hint, stop=True),
    Rule("interval is 'epoch' or 'step'", lambda c, _: c.interval in ev.STEPS_PER_INTERVAL,
         lambda c: f"interval={c.interval}; Lightning accepts only 'epoch' or 'step'", stop=True),
    Rule("frequency is 1", lambda c, _: c.frequency == "1", lambda c: f"frequency={c.frequency} steps the scheduler "
         f"only every {c.frequency} intervals, stretching the schedule; use 'frequency': 1", stop=True),
    Rule("the scheduler wraps the returned optimizer", lambda c, _: c.wraps,
         lambda c: "build the scheduler on the same optimizer you return", stop=True),
)
_FAILED_STAGE = {"build": "the model can be built", "epochs": "the model knows its num_epochs",
                 "configure": "configure_optimizers runs"}


def _lengths_match_interval(report: CheckReport, run: ev.LRRun, num_epochs: int) -> bool:
    """A per-step scheduler with lengths in epochs finishes in the first epoch, and vice versa."""
    name, step = "schedule lengths match the interval", run.steps_per_epoch > 1
    first_peak = int(np.argmax(run.lr >= run.lr.max() * (1 - 1e-6)))  # a periodic LR's later peaks may be higher
    # Lengths in epochs put the peak within the first num_epochs steps; lengths in steps put it
    # about a quarter of num_epochs * STEPS_PER_EPOCH steps in, far beyond (also in quick mode).
    if step and first_peak < num_epochs:
        return report.add(name, False, "interval is 'step' but the lengths count epochs: the whole warmup + cosine is "
                          f"over within the first {num_epochs} of the first epoch's {STEPS_PER_EPOCH} batches. Use "
                          f"'interval': 'epoch', or count in steps (warmup = int({WARMUP_FRACTION} * "
                          "self.trainer.estimated_stepping_batches), total = self.trainer.estimated_stepping_batches)")
    max_epochs = run.bolts.max_epochs if run.bolts else None
    if not step and max_epochs is not None and max_epochs >= 10 * num_epochs:
        return report.add(name, False, f"interval is 'epoch' but max_epochs={max_epochs!r} counts optimizer steps: "
                          "with lengths in steps use 'interval': 'step'")
    return report.add(name, True)


def _judge_configured(report: CheckReport, c: ev.Configured | None, n: int, *, full: bool) -> bool:
    """The criteria of one recorded ``configure_optimizers`` (``full``: also its use of self.learning_rate)."""
    if c is None:
        return report.add("configure_optimizers runs", False, f"nothing was recorded for num_epochs={n}")
    if c.failed is not None:
        return report.add(_FAILED_STAGE[c.failed], False, c.error[:400])
    form = run_rules(report.title, _FORM_RULES[1:] if c.form == "lists" else _FORM_RULES, c)
    report.criteria += form.criteria
    if not form.passed:
        return False
    if full and c.base_lr is not None and c.learning_rate is not None:
        report.add("optimizer uses self.learning_rate", math.isclose(c.base_lr, c.learning_rate, rel_tol=1e-9),
                   f"the optimizer's lr is {c.base_lr:g} but self.learning_rate is {c.learning_rate:g}: pass "
                   "lr=self.learning_rate")
    steps = f"scheduler steps through {n} epochs"
    if c.base_lr is None or c.base_lr <= 0:
        return report.add(steps, False, "the returned optimizer has no positive lr")
    stepped = c.run is not None and c.run.steps_per_epoch == ev.STEPS_PER_INTERVAL[c.interval]
    run = _curve(c.run, n) if stepped else ev.LRRun(np.empty(0), error="the LR was not recorded as Lightning steps "
                                                                        "this interval")
    return (report.add(steps, not run.error, run.error) and _lengths_match_interval(report, run, n)
            and _judge_shape(report, run, n, c.base_lr))


def _judge_configure_optimizers(evidence: ev.ConfigureEvidence, context: JudgeContext | None = None) -> CheckReport:
    """At the main length, then at the probes: lengths hard-coded in configure_optimizers fail at a probe."""
    context = context or learner_context()
    report = CheckReport(f"Check: {evidence.name[:80]}.configure_optimizers")
    if evidence.num_epochs is None:
        _judge_configured(report, evidence.own, 0, full=True)
        return report
    n = context.main_length(evidence.num_epochs)
    if not _judge_configured(report, evidence.runs.get(n), n, full=True):
        return report
    failing, cause = _first_failing(context.probe_lengths(n), lambda sub, probe: _judge_configured(
        sub, evidence.runs.get(probe), probe, full=False))
    report.add("max_epochs follows self.num_epochs", failing is None,
               f"a model with num_epochs={failing} does not get a {WARMUP_PERCENT} warmup + cosine over {failing} "
               f"epochs ({cause}): derive the lengths from self.num_epochs (or "
               "self.trainer.estimated_stepping_batches) instead of hard-coding them")
    return report


def _collect_configure_optimizers(model: object, num_epochs: int | None = None, *,
                                  probes: Sequence[int] = LEARNER_PROBES) -> ev.ConfigureEvidence:
    return ev.configure_evidence(model, num_epochs, probes)


# The configure_optimizers blank, stepped per epoch or per batch on copies built with other num_epochs.
check_configure_optimizers = Check("check_configure_optimizers", _collect_configure_optimizers,
                                   _judge_configure_optimizers, evidence=ev.ConfigureEvidence)


# --------------------------------------------------------------------------- the training run


def _judge_length(report: CheckReport, n: int, context: JudgeContext) -> bool:
    """The run's num_epochs is the course's; True when it was set by hand in the grader's quick mode."""
    quick, wrong = context.quick, wrong_length([("num_epochs", n)], context)
    if quick is not None and wrong is None:
        report.skip(COURSE_LENGTH, f"quick mode ({QUICK_EPOCHS_ENV} is set)")
        return False
    by_hand = "" if quick is None else f" (set by hand: quick mode would have shortened course_epochs({COURSE_EPOCHS}))"
    report.add(COURSE_LENGTH, wrong is None, f"num_epochs is {n}{by_hand}: keep num_epochs = "
               f"course_epochs({COURSE_EPOCHS}) so your result compares with the course's")
    return quick is not None


def _judge_accuracy(report: CheckReport, evidence: ev.TrainingEvidence, threshold: float,
                    context: JudgeContext) -> bool:
    """Test accuracy of the trained weights, computed here from the course data; in the notebook the
    accuracy the run reported stands in when the model was not found."""
    name = f"test accuracy ≥ {threshold}"
    accuracy = evidence.reported_test_acc if evidence.weights is None and not context.grader else None
    if evidence.weights is not None:
        try:
            accuracy = course_accuracy(evidence.weights, "test")
        except ValueError as exc:
            return report.add(name, False, f"the trained weights are {exc}")
    if accuracy is None:
        return report.add(name, False, "the trained model was not found: keep the model you trained in a variable "
                                       "(model = ...; result = fit_and_test(model))")
    return report.add(name, accuracy >= threshold, f"test accuracy {accuracy:.4f}; with warmup + cosine over "
                      f"{COURSE_EPOCHS} epochs the course reaches about 0.89: compare your schedule with the checks "
                      "above")


def _judge_training_result(evidence: ev.TrainingEvidence, context: JudgeContext | None = None) -> CheckReport:
    """A finished run: its length, the LR it logged per epoch (the warmup + cosine shape, closed form not
    required), and the test accuracy of its weights, computed by the judge from the course data."""
    context = context or learner_context()
    quick, threshold, lr = context.quick, evidence.threshold, evidence.lr
    report = CheckReport("Check: training run")
    by_hand = _judge_length(report, evidence.num_epochs, context)
    if evidence.log_error:
        report.add("the run's log can be read", False, f"{evidence.log_error}; run the training cell again")
        return report
    expected = min(evidence.num_epochs, quick) if quick is not None else evidence.num_epochs
    if not report.add(f"trained for all {expected} epochs", evidence.epochs_logged == expected,
                      f"the log has {evidence.epochs_logged} epochs: the model was trained for a different length "
                      "than num_epochs, or the run was interrupted; run the cells from the top again"):
        return report
    name = "the logged LR follows warmup + cosine"
    if by_hand:
        report.skip(name, "num_epochs was set by hand and quick mode cut the run short")
    elif lr is not None and len(lr) == expected:
        fine = _judge_shape(sub := CheckReport("lr"), ev.LRRun(lr.astype(float)), expected, evidence.base_lr,
                            tol=1e-5, exact=False)
        report.add(name, fine, "; ".join(c.name + ": " + c.hint for c in sub.failed()))
    else:
        report.skip(name, "no 'lr' column in the run's metrics")
    if threshold is None:
        report.skip("test accuracy", "no target accuracy for this variant")
    elif quick is not None:
        report.skip(f"test accuracy ≥ {threshold}", f"quick mode trains only {expected} epochs")
    else:
        _judge_accuracy(report, evidence, threshold, context)
    return report


def _collect_training_result(result: object, num_epochs: int, threshold: float | None = TARGET_ACCURACY,
                             base_lr: float = BASE_LR, *, namespace: Mapping[str, object] | None = None
                             ) -> ev.TrainingEvidence:
    namespace = namespace if namespace is not None else sys._getframe(1).f_globals
    return ev.training_evidence(result, num_epochs, threshold, base_lr, namespace)


# A finished run (the trained model is looked up in the notebook's globals).
check_training_result = Check("check_training_result", _collect_training_result, _judge_training_result,
                              evidence=ev.TrainingEvidence, caller_namespace=True)
