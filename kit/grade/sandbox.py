"""One bubblewrap sandbox per submission: what the learner's processes can see, and nothing else.

The pytest/nbval child of a submission (and so its kernel and everything the learner's code
starts) runs under ``bwrap`` in new user, PID, IPC, network, UTS and cgroup namespaces. Inside:

- read-only: ``/usr`` (and the ``/bin``, ``/lib*`` links or folders), a few files of ``/etc``,
  the Python environment (a venv at a neutral path, its base interpreter at its own path) and a
  per-submission *copy* of the learner-facing kit (``helpers/``, with the grader's masks applied)
  at ``/kit``;
- read-write: the work folder (graded copy and ``evidence/``), the report folder (junit XML) and
  a fresh ``$HOME``; ``/tmp`` is a size-capped tmpfs;
- nothing else: no ``solutions/``, no tests, no checkout, no instructor home, no other
  submission, no network (only a loopback of its own), its own ``/proc`` showing only its own
  processes.

When the sandbox's init ends, the kernel kills every process of its PID namespace, so a
detached process cannot outlive its submission. This is not a VM: see docs/GRADING.md.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from helpers.parallel import WORKERS_ENV
from kit.course import helpers_dir
from kit.grade import capture
from kit.grade.errors import GradeUsageError
from kit.grade.limits.slots import PREFIX

INSTALL_HINT = ("install bubblewrap: `apt-get install bubblewrap` (Debian/Ubuntu), `dnf install bubblewrap` "
                "(Fedora), `pacman -S bubblewrap` (Arch); or grade with --no-sandbox, which runs learner code "
                "unisolated as your user")
KIT_INSIDE = "/kit"
VENV_INSIDE = "/opt/kit-python"
BASE_INSIDE = "/opt/kit-base-python"
WORK_INSIDE = "/grade/work"
REPORT_INSIDE = "/grade/report"
HOME_INSIDE = "/home/learner"
UID = GID = 1000
TMP_BYTES = 1024 ** 3  # tmpfs /tmp cap; the file-size limit caps each file
SETPRIV = "/usr/bin/setpriv"  # util-linux: switches uid before the learner's code starts
_SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ETC = ("alternatives", "fonts", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf",
        "host.conf", "gai.conf", "locale.alias", "mime.types", "os-release", "timezone", "ssl",
        "ca-certificates", "matplotlibrc")
_PASSED_ENV = ("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED", "MPLBACKEND", WORKERS_ENV)


class SandboxUnavailable(GradeUsageError):
    """bwrap is missing or cannot create the namespaces (the grader stops: exit status 2)."""


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=1)
def _probe() -> str:
    """'' when a sandbox like the real one starts, else why not."""
    path = bwrap_path()
    if path is None:
        return "bubblewrap (bwrap) is not installed"
    command = [path, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
               "--uid", str(UID), "--gid", str(GID), *_system_binds(), "--proc", "/proc", "--dev", "/dev",
               "--size", str(TMP_BYTES), "--tmpfs", "/tmp", "--remount-ro", "/", "--", "/bin/sh", "-c", "exit 0"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be run ({exc})"
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return (f"bwrap cannot create the sandbox's namespaces here ({why[0]}); unprivileged user namespaces may "
                "be disabled (sysctl kernel.unprivileged_userns_clone=1, or AppArmor's "
                "kernel.apparmor_restrict_unprivileged_userns=0), or a container forbids them")
    return ""


def ensure_available() -> None:
    """Raise :class:`SandboxUnavailable` with how to fix it, unless a sandbox can be started."""
    why = _probe()
    if why:
        raise SandboxUnavailable(f"cannot sandbox the learners' code: {why}. To fix: {INSTALL_HINT}.")


def _mirrored(parent: str, names: Iterable[str], *, folders_only: bool = False) -> list[str]:
    """bwrap arguments that show ``parent/name`` inside as it is outside, read-only: a symlink is
    recreated (so a merged-/usr ``/lib`` stays a link), anything else is bound; absent names are left out."""
    args = []
    for name in names:
        host = Path(parent) / name
        inside = str(host)
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), inside]
        elif host.is_dir() if folders_only else host.exists():
            args += ["--ro-bind", inside, inside]
    return args


def _system_binds() -> list[str]:
    return ["--ro-bind", "/usr", "/usr", *_mirrored("/", _SYSTEM_LINKS, folders_only=True)]


def _etc_binds() -> list[str]:
    return _mirrored("/etc", _ETC)


@dataclass(frozen=True)
class Interpreter:
    """Where the grading Python lives outside, and how it is reached inside."""

    binds: tuple[tuple[str, str], ...]  # (outside, inside), read-only
    executable: str  # inside
    venv: bool = False  # a venv: its bin/ and pyvenv.cfg are replaced by generated ones
    base_executable: str = ""  # inside: the base interpreter's real executable
    pyvenv_cfg: str = ""  # the host's pyvenv.cfg, to rewrite


@functools.lru_cache(maxsize=1)
def interpreter() -> Interpreter:
    """The running environment. A venv goes to a neutral path and its base interpreter (shared
    libraries, stdlib) to another, with a generated ``pyvenv.cfg`` and ``bin/`` pointing there,
    so no host path (a checkout, a home folder) appears inside. A plain or conda interpreter is
    bound where it is."""
    prefix, base = Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()
    real = Path(sys.executable).resolve()
    cfg = prefix / "pyvenv.cfg"
    if prefix != base and cfg.is_file():
        try:
            rel = real.relative_to(base)
        except ValueError:
            rel = None
        if rel is not None:
            return Interpreter(((str(prefix), VENV_INSIDE), (str(base), BASE_INSIDE)), f"{VENV_INSIDE}/bin/python",
                               venv=True, base_executable=f"{BASE_INSIDE}/{rel.as_posix()}", pyvenv_cfg=str(cfg))
    return Interpreter(((str(prefix), str(prefix)),) + (((str(base), str(base)),) if base != prefix else ()),
                       str(Path(sys.executable).absolute()))


def _write_venv_shim(folder: Path) -> None:
    """``bin/`` (python links to the base interpreter inside) and ``pyvenv.cfg`` for the venv inside."""
    info = interpreter()
    (folder / "bin").mkdir(parents=True)
    for name in ("python", "python3", f"python{sys.version_info.major}.{sys.version_info.minor}"):
        os.symlink(info.base_executable, folder / "bin" / name)
    lines = []
    for line in Path(info.pyvenv_cfg).read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        if key == "home":
            line = f"home = {BASE_INSIDE}/bin"
        elif key in ("executable", "command"):
            continue
        lines.append(line)
    (folder / "pyvenv.cfg").write_text("\n".join(lines) + "\n")


def kit_source() -> Path:
    """The learner-facing kit: the ``helpers`` package in use (the grader's own code is not in it)."""
    return helpers_dir()


# The nbval run's pytest plugin, staged beside ``helpers`` (the grader's package is not in a sandbox).
CAPTURE_MODULE = "kit_capture"


def stage_kit(dest: Path, masks: Mapping[str, bytes]) -> Path:
    """Copy ``helpers/`` to ``dest/helpers`` (plus the capture plugin) and apply ``masks``
    (kit-relative path -> bytes)."""
    # __pycache__ comes along (valid: copytree keeps mtimes), so kernels do not recompile the kit.
    shutil.copytree(kit_source(), dest / "helpers")
    shutil.copyfile(Path(capture.__file__), dest / f"{CAPTURE_MODULE}.py")
    for rel, content in masks.items():
        target = dest / _mask_path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.is_dir():
            raise ValueError(f"mask {rel!r} names a folder or a link in the kit")
        target.write_bytes(bytes(content))
    return dest


def _mask_path(rel: str) -> PurePosixPath:
    path = PurePosixPath(rel)
    if path.is_absolute() or not path.parts or ".." in path.parts or path.parts[0] != "helpers":
        raise ValueError(f"mask path {rel!r} must be relative to the kit root and inside helpers/, e.g. "
                         "'helpers/quiz_data/warmup_quiz.json'")
    return path


def write_identity(etc: Path, uid: int = UID) -> None:
    """passwd/group/hosts/hostname for the learner inside (the host's are not shown)."""
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "passwd").write_text(f"learner:x:{uid}:{uid}:learner:{HOME_INSIDE}:/bin/sh\n"
                                "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    (etc / "group").write_text(f"learner:x:{uid}:\nnogroup:x:65534:\n")
    (etc / "hosts").write_text("127.0.0.1 localhost sandbox\n::1 localhost\n")
    (etc / "hostname").write_text("sandbox\n")


def sandbox_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment inside: a fixed base (no instructor variables), a few settings passed through
    (locale, thread and worker counts), then ``extra``."""
    home = HOME_INSIDE
    env = {
        "PATH": f"{os.path.dirname(interpreter().executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home, "USER": "learner", "LOGNAME": "learner", "SHELL": "/bin/sh", "TMPDIR": "/tmp",
        "LANG": "C.UTF-8", "PYTHONPATH": KIT_INSIDE, "PYTHONDONTWRITEBYTECODE": "1",
        "IPYTHONDIR": f"{home}/.ipython", "JUPYTER_CONFIG_DIR": f"{home}/.jupyter",
        "JUPYTER_DATA_DIR": f"{home}/.local/share/jupyter",
            "JUPYTER_RUNTIME_DIR": f"{home}/.local/share/jupyter/runtime",
        "JUPYTER_PLATFORM_DIRS": "1", "MPLCONFIGDIR": f"{home}/.config/matplotlib", "XDG_CACHE_HOME": f"{home}/.cache",
        "XDG_CONFIG_HOME": f"{home}/.config", "XDG_DATA_HOME": f"{home}/.local/share",
    }
    if interpreter().venv:  # the base interpreter's libpython is linked by its host path
        env["LD_LIBRARY_PATH"] = f"{BASE_INSIDE}/lib"
    env.update({k: os.environ[k] for k in _PASSED_ENV if k in os.environ})
    env.update(extra)
    return env


@dataclass(frozen=True)
class Layout:
    """The per-submission folders outside; all live under one temporary ``base``. With a
    ``writable`` folder (a capped disk of the submission's own) the folders the learner's code
    may write (work, report, home, tmp) live there; ``uid`` is who the learner's code runs as
    outside the sandbox when the grader is root (``UID`` in a user namespace otherwise)."""

    base: Path
    writable: Path | None = None
    uid: int | None = None

    @property
    def kit(self) -> Path: return self.base / "kit"
    @property
    def work(self) -> Path: return (self.writable or self.base) / "work"
    @property
    def report(self) -> Path: return self.base / "report"  # a disk of its own beside a capped one
    @property
    def home(self) -> Path: return (self.writable or self.base) / "home"
    @property
    def tmp(self) -> Path | None: return self.writable / "tmp" if self.writable is not None else None
    @property
    def etc(self) -> Path: return self.base / "etc"
    @property
    def venv(self) -> Path: return self.base / "venv"

    def create(self, masks: Mapping[str, bytes]) -> None:
        for folder in (self.work, self.report, self.home, *([self.tmp] if self.tmp is not None else [])):
            folder.mkdir(exist_ok=folder == self.report)  # the report disk is its mount point
        stage_kit(self.kit, masks)
        write_identity(self.etc, UID if self.uid is None else self.uid)
        if interpreter().venv:
            _write_venv_shim(self.venv)
        for sub in (".ipython", ".jupyter", ".config/matplotlib", ".cache", ".local/share/jupyter/runtime"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        seed = font_cache_seed()
        if seed is not None:
            (self.home / ".config" / "matplotlib" / seed[0]).write_bytes(seed[1])

    def hand_over(self) -> None:
        """Give the writable folders to the slot uid (a root grader stages them as root)."""
        if self.uid is None:
            return
        os.chmod(self.base, 0o711)
        for folder in (self.work, self.report, self.home, *([self.tmp] if self.tmp is not None else [])):
            for root, dirs, files in os.walk(folder):
                for name in [*dirs, *files]:
                    os.lchown(os.path.join(root, name), self.uid, self.uid)
            os.chown(folder, self.uid, self.uid)


def bwrap_command(layout: Layout, argv: list[str], env: Mapping[str, str], info_fd: int | None = None,
                  tmp_bytes: int = TMP_BYTES) -> list[str]:
    """The bwrap command line that runs ``argv`` (paths as seen inside) in the sandbox."""
    path = bwrap_path()
    if path is None:
        ensure_available()
    command = [str(path), *_namespaces(layout.uid), "--die-with-parent", "--new-session", "--hostname", "sandbox",
               *_system_binds(), *_etc_binds()]
    for name in ("passwd", "group", "hosts", "hostname"):
        command += ["--ro-bind", str(layout.etc / name), f"/etc/{name}"]
    command += ["--proc", "/proc", "--dev", "/dev", "--dir", "/opt", "--dir", "/grade", "--dir", "/home"]
    command += ["--bind", str(layout.tmp), "/tmp"] if layout.tmp is not None else \
        ["--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    info = interpreter()
    for outside, inside in info.binds:
        command += ["--ro-bind", outside, inside]
    if info.venv:
        command += ["--ro-bind", str(layout.venv / "bin"), f"{VENV_INSIDE}/bin",
                    "--ro-bind", str(layout.venv / "pyvenv.cfg"), f"{VENV_INSIDE}/pyvenv.cfg"]
    command += ["--ro-bind", str(layout.kit), KIT_INSIDE,
                "--bind", str(layout.work), WORK_INSIDE, "--bind", str(layout.report), REPORT_INSIDE,
                "--bind", str(layout.home), HOME_INSIDE, "--remount-ro", "/", "--chdir", WORK_INSIDE, "--clearenv"]
    for key, value in env.items():
        command += ["--setenv", key, value]
    if info_fd is not None:
        command += ["--info-fd", str(info_fd)]
    return [*command, "--", *_drop_to(layout.uid), *argv]


def _namespaces(uid: int | None) -> list[str]:
    """Unprivileged: a user namespace maps the learner to ``UID``. Root with a slot ``uid``: no
    user namespace (it would map the learner to real root outside); bwrap keeps only the
    capabilities to switch to the slot uid, which :func:`_drop_to` does before anything else runs."""
    if uid is None:
        return ["--unshare-all", "--unshare-user", "--cap-drop", "ALL", "--uid", str(UID), "--gid", str(GID)]
    return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]


def _drop_to(uid: int | None) -> list[str]:
    """The command prefix that becomes ``uid`` (no groups, no capabilities left) inside the sandbox."""
    if uid is None:
        return []
    if Path(SETPRIV).exists():
        return [SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--"]
    code = ("import os,sys;u=int(sys.argv[1]);os.setgroups([]);os.setresgid(u,u,u);os.setresuid(u,u,u);"
            "os.execv(sys.argv[2],sys.argv[2:])")
    return [interpreter().executable, "-c", code, str(uid)]


def args_file(command: list[str], path: Path) -> tuple[list[str], int]:
    """Move bwrap's arguments into a file read through ``--args FD``, so that the sandbox's
    ``/proc/1/cmdline`` shows no host path. Returns the short command and the fd to pass."""
    split = command.index("--")  # bwrap takes options from the file, the command from argv
    path.write_bytes(b"".join(arg.encode() + b"\0" for arg in command[1:split]))
    fd = os.open(path, os.O_RDONLY)
    return [command[0], "--args", str(fd), *command[split:]], fd


@functools.lru_cache(maxsize=1)
def font_cache_seed() -> tuple[str, bytes] | None:
    """Matplotlib's font list (file name, content) built once, inside a sandbox, for the paths seen there.

    Each submission gets a fresh ``MPLCONFIGDIR``; without a seed every kernel would rebuild the
    font cache (seconds of CPU per submission). None when matplotlib is absent or fails.
    """
    import tempfile

    base = Path(tempfile.mkdtemp(prefix=f"{PREFIX}fonts-"))
    try:
        layout = Layout(base)
        for folder in (layout.work, layout.report, layout.home / ".config" / "matplotlib"):
            folder.mkdir(parents=True)
        stage_kit(layout.kit, {})
        write_identity(layout.etc)
        if interpreter().venv:
            _write_venv_shim(layout.venv)
        code = "import matplotlib.font_manager as f; f.findfont('DejaVu Sans')"
        command = bwrap_command(layout, [interpreter().executable, "-c", code], sandbox_env({}))
        subprocess.run(command, capture_output=True, timeout=300, stdin=subprocess.DEVNULL, check=True)
        built = sorted((layout.home / ".config" / "matplotlib").glob("fontlist-*.json"))
        return (built[-1].name, built[-1].read_bytes()) if built else None
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        remove_tree(base)


def remove_tree(path: Path) -> None:
    """Delete a folder the learner had write access to, whatever modes it left (chmod 000 folders)."""

    def retry(function: Callable[[str], object], name: str, _exc: object) -> None:
        try:
            os.chmod(os.path.dirname(name), stat.S_IRWXU)
            if os.path.isdir(name) and not os.path.islink(name):
                os.chmod(name, stat.S_IRWXU)
                shutil.rmtree(name, onerror=lambda *a: None)
            else:
                os.unlink(name)
        except OSError:
            pass

    if path.is_symlink():
        path.unlink()
    elif path.exists():
        for root, dirs, _files in os.walk(path):  # make every folder writable first
            for name in dirs:
                full = os.path.join(root, name)
                if not os.path.islink(full):
                    try:
                        os.chmod(full, stat.S_IRWXU)
                    except OSError:
                        pass
        shutil.rmtree(path, onerror=retry)


def read_evidence(folder: Path, max_file: int = 64 * 1024 ** 2, max_total: int = 256 * 1024 ** 2,
                  max_files: int = 2000) -> dict[str, bytes]:
    """The regular files under ``folder`` (relative POSIX names), never following a link; files
    beyond the caps are left out."""
    found: dict[str, bytes] = {}
    total = 0
    if folder.is_symlink() or not folder.is_dir():
        return found
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            try:
                fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
            except OSError:
                continue
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or info.st_size > max_file or total + info.st_size > max_total:
                    continue
                with os.fdopen(os.dup(fd), "rb") as handle:
                    data = handle.read(max_file + 1)
            finally:
                os.close(fd)
            if len(data) > max_file or len(found) >= max_files:
                continue
            total += len(data)
            found[Path(full).relative_to(folder).as_posix()] = data
    return found
