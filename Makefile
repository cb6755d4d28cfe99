# Two commands for everyone: `make lab` and `make test`. Both build .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
KIT := $(VENV)/bin/kit
PORT ?= 8888
# Headless machines: `make lab NO_BROWSER=1` prints the URL instead of opening a browser.
NO_BROWSER ?=
PYTEST_ARGS ?=
JOBS ?= 2

.PHONY: venv lab lint lint-ruff lint-mypy test test-main test-full colab unit solutions starters launch check grade bench clean

venv:
	@bash tools/ensure_venv.sh "$(VENV)"

# Jupyter refuses to start as root (containers, Colab-like VMs) unless told --allow-root.
lab: venv
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(if $(NO_BROWSER),--no-browser,) \
		$(if $(filter 0,$(shell id -u)),--allow-root,)

# Lint (ruff) and type check (mypy), unit tests, starter sync, every solution notebook re-executed
# under nbval (strict outputs), then the Colab-profile lane (`make colab`): -k runs every part even
# when an earlier one failed, and `make test` fails if any did.
test: venv
	$(MAKE) --no-print-directory -k lint test-main colab VENV="$(VENV)"

# ruff and mypy read their configuration from pyproject.toml ([tool.ruff], [tool.mypy]); two targets,
# so that under `make -k` (as in `make test`) mypy still reports when ruff has failed.
lint: lint-ruff lint-mypy

lint-ruff: venv
	$(VENV)/bin/ruff check .

lint-mypy: venv
	$(VENV)/bin/mypy

# TEST_LAUNCH: CI sets it to an `srun ...` command when its one-node Slurm cluster is up, so that
# every solution notebook is checked by nbval inside a Slurm job, as a learner's Open OnDemand
# JupyterLab runs it (same outputs, no Slurm warnings), without executing the solutions twice.
TEST_LAUNCH ?=
test-main: venv
	$(TEST_LAUNCH) $(PY) -m pytest tests solutions --nbval --nbval-current-env \
		--nbval-sanitize-with kit/nbval_sanitize.cfg -n $(JOBS) --dist loadscope $(PYTEST_ARGS)

# The Colab-profile lane: ipywidgets 7.7.1 and Colab's numpy/pandas/sklearn/matplotlib layered over
# the venv (cached in KIT_COLAB_CACHE, default ~/.cache/kit-colab-overlay), the widget and quiz
# tests, and every solution run top to bottom in quick mode through its Colab setup path.
colab: venv
	$(PY) tools/colab_lane.py $(COLAB_ARGS)

unit: venv
	$(PY) -m pytest tests $(PYTEST_ARGS)

# Full-mode grading of the real notebooks (100-epoch trainings; 10-25 min on 2 cores, not in CI).
test-full: venv
	KIT_FULL_GRADING=1 $(PY) -m pytest tests/test_grade_real_notebooks.py -k full_mode -rs $(PYTEST_ARGS)

# Regenerate every starter in notebooks/ from its solution in solutions/.
starters: venv
	$(KIT) assign

# Rewrite the launch badges and cloud setup cell of every solution from helpers/cloud.py's REPO_URL/REF (kit launch).
launch: venv
	$(KIT) launch

# Re-execute the solutions in place (maintainers, after changing a solution or a helper).
solutions: venv
	$(KIT) execute solutions/*.ipynb

bench: venv
	$(PY) benchmarks/train_speed.py $(BENCH_ARGS)

clean:
	rm -rf logs solutions/logs notebooks/logs .pytest_cache

# Instructors: grade a folder of learner notebooks (docs/GRADING.md), e.g.
#   make grade SUBMISSIONS=inbox OUT=grades GRADE_ARGS="--jobs 2 --quick"
# Each submission runs in a bubblewrap sandbox (apt-get install bubblewrap); without bwrap the
# grader stops, unless GRADE_ARGS/CHECK_ARGS contain --no-sandbox (trusted notebooks only).
OUT ?= grades
GRADE_ARGS ?=
grade: venv
	$(if $(SUBMISSIONS),,$(error usage: make grade SUBMISSIONS=folder [OUT=folder] [GRADE_ARGS="--jobs 2 --quick"]))
	$(KIT) grade "$(SUBMISSIONS)" --out "$(OUT)" $(GRADE_ARGS)

# Learners: grade your own notebook as the instructor will and print the feedback, e.g.
#   make check NB=notebooks/01_warmup_cosine.ipynb   (add CHECK_ARGS=--quick to skip full training)
CHECK_ARGS ?=
check: venv
	$(if $(NB),,$(error usage: make check NB=notebooks/<exercise>.ipynb [CHECK_ARGS=--quick]))
	$(KIT) check "$(NB)" $(CHECK_ARGS)
