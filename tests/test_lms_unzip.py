"""Hostile downloads: entries that escape the output folder, symbolic links, zip bombs (entry
count, total size, one entry over the cap, an entry larger than it declares), names in any
script. Each is reported by name; nothing is written outside the staging folder; the download
is byte-identical afterwards."""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import pytest
from lms_fixtures import moodle_entries, notebook, tree_hashes, write_zip

from kit.grade.errors import GradeUsageError
from kit.lms import ingest, safe_unzip
from kit.lms.safe_unzip import Download, UnsafeDownload

GOOD = "lovelaceada_1001_5001_00_toy.ipynb"


def _symlink_entry(archive: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (0o120777 << 16)  # S_IFLNK: how zip tools store a symbolic link
    archive.writestr(info, target)


def test_escaping_entries_and_links_are_skipped_by_name(tmp_path: Path) -> None:
    download = tmp_path / "dl" / "submissions.zip"
    download.parent.mkdir()
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr(GOOD, notebook())
        for name in ("../evil_1_2_x.ipynb", "/tmp/abs_1_2_x.ipynb", "C:\\win_1_2_x.ipynb", "a/../../up_1_2_x.ipynb",
                     "..\\back_1_2_x.ipynb"):
            archive.writestr(name, notebook())
        _symlink_entry(archive, "link_1004_1_00_toy.ipynb", "/etc/passwd")
    before_dl, before_tmp = tree_hashes(download), tree_hashes(tmp_path)
    staged = ingest.stage(download, "canvas", tmp_path / "out" / "lms" / "download")
    reasons = {s.member: s.reason for s in staged.skipped}
    assert "absolute path" in reasons["/tmp/abs_1_2_x.ipynb"]
    assert "absolute path" in reasons["C:\\win_1_2_x.ipynb"]
    for name in ("../evil_1_2_x.ipynb", "a/../../up_1_2_x.ipynb", "..\\back_1_2_x.ipynb"):
        assert "'..'" in reasons[name], name
    assert "symbolic link" in reasons["link_1004_1_00_toy.ipynb"]
    assert [e.member for e in staged.entries.values()] == [GOOD]
    assert tree_hashes(download) == before_dl
    after = tree_hashes(tmp_path)
    new = {k for k in after if k not in before_tmp}
    assert new and all(k.startswith("out/lms/download/") for k in new), new
    assert not Path("/tmp/abs_1_2_x.ipynb").exists()


def test_too_many_entries_stops_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_unzip, "MAX_ENTRIES", 5)
    download = write_zip(tmp_path / "bomb.zip", {f"x_{i}_1_00_toy.ipynb": notebook() for i in range(6)})
    with pytest.raises(UnsafeDownload, match="6 entries, over the cap of 5"):
        ingest.stage(download, "canvas", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_total_size_cap_stops_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_unzip, "MAX_TOTAL_BYTES", 50_000)
    zeros = b"0" * 30_000  # compresses to a few dozen bytes: a small zip, a large unpacked size
    download = write_zip(tmp_path / "bomb.zip", {"a_1_1_00_toy.ipynb": zeros, "b_2_2_00_toy.ipynb": zeros})
    assert download.stat().st_size < 2_000
    with pytest.raises(UnsafeDownload, match="over the cap"):
        ingest.stage(download, "canvas", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_one_entry_over_the_file_cap_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_unzip, "MAX_FILE_BYTES", 10_000)
    download = write_zip(tmp_path / "dl.zip", {GOOD: notebook(), "big_7_7_00_toy.ipynb": b" " * 1_000_000})
    staged = ingest.stage(download, "canvas", tmp_path / "out")
    assert {s.member: s.reason for s in staged.skipped}["big_7_7_00_toy.ipynb"].endswith("over the 0 MB cap")
    assert len(staged.entries) == 1


def _forge_declared_size(path: Path, declared: int) -> None:
    """Rewrite the central directory's uncompressed size of the only entry (a stored one): a zip
    that lies about how much it holds."""
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    data[at + 24:at + 28] = struct.pack("<I", declared)
    path.write_bytes(bytes(data))


def test_an_entry_larger_than_it_declares_is_refused(tmp_path: Path) -> None:
    download = tmp_path / "liar.zip"
    with zipfile.ZipFile(download, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("liar_5_5_00_toy.ipynb", notebook())
    _forge_declared_size(download, 40)
    staged = ingest.stage(download, "canvas", tmp_path / "out")
    assert staged.entries == {}
    assert "more bytes than its zip entry declares" in staged.skipped[0].reason


def test_a_folder_download_never_follows_links(tmp_path: Path) -> None:
    secret = tmp_path / "secret.ipynb"
    secret.write_bytes(notebook())
    folder = tmp_path / "dl"
    (folder / "Ada Lovelace_1_assignsubmission_file").mkdir(parents=True)
    (folder / "Ada Lovelace_1_assignsubmission_file" / "00_toy.ipynb").write_bytes(notebook())
    os.symlink(secret, folder / "Ada Lovelace_1_assignsubmission_file" / "stolen.ipynb")
    os.symlink(tmp_path, folder / "Bob_2_assignsubmission_file")
    download = Download(folder)
    assert [i.name for i in download.items] == ["Ada Lovelace_1_assignsubmission_file/00_toy.ipynb"]
    assert {s.member for s in download.skipped} == {"Ada Lovelace_1_assignsubmission_file/stolen.ipynb",
                                                     "Bob_2_assignsubmission_file"}


def test_names_in_any_script_are_staged_inside_the_folder(tmp_path: Path) -> None:
    nb = notebook()
    download = write_zip(tmp_path / "moodle.zip", moodle_entries(nb))
    dest = tmp_path / "out" / "download"
    staged = ingest.stage(download, "auto", dest)
    assert staged.lms == "moodle"
    names = {e.learner_id: e.display_name for e in staged.entries.values()}
    assert names["123457"] == "Zoë Ångström" and names["123458"] == "李小龙"
    assert names["123461"] == "🙂 Smile_O'Brien"
    for rel in staged.entries:
        assert (dest / rel).resolve().is_relative_to(dest.resolve())
        assert (dest / rel).read_bytes() == nb


def test_a_download_inside_the_staging_folder_is_refused(tmp_path: Path) -> None:
    dest = tmp_path / "out" / "lms" / "download"
    dest.mkdir(parents=True)
    download = write_zip(dest / "submissions.zip", {GOOD: notebook()})
    before = tree_hashes(download)
    with pytest.raises(GradeUsageError, match="move the download out of --out"):
        ingest.stage(download, "canvas", dest)
    assert tree_hashes(download) == before
