"""JSON Schema files: the current ones match the code, released ones never change."""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import jsonschema
import msgspec
import pytest

import schemas
from schemas import json_schema
from schemas.json_schema import RELEASES_DIR, SCHEMA_DIR

#: sha256 of every file of every frozen release. A release is never edited: if this test
#: fails, restore the snapshot; do not update the digest. Freezing a new release adds a
#: block here (the test below insists).
FROZEN = {
    "0.1": {
        "event.json": "d604fa3845ed1085e19490a4a5e3d2f5e64f45b97ec07e4bda2e757a26d3fe52",
        "message.json": "5c34587244652a437a89f54db9fb7b0b493da8a20839d1d5c44d981a14525edb",
        "usage_record.json": "20eeaf87b6903cd8eb3000d7d59e916d768176ea4f1bd4871f8c677421184416",
    },
}


def test_schema_files_match_what_the_code_generates():
    generated = json_schema.generate()
    on_disk = {p.name: p.read_bytes() for p in SCHEMA_DIR.glob("*.json")}
    assert on_disk.keys() == generated.keys()
    for name, content in generated.items():
        assert on_disk[name] == content, f"{name} is stale: run python -m schemas.json_schema"


def test_check_flag_agrees(capsys):
    assert json_schema.main(["--check"]) == 0
    assert capsys.readouterr().out == "up to date\n"


@pytest.mark.parametrize("name", ["event.json", "message.json", "usage_record.json"])
def test_schema_files_are_valid_json_schema(name):
    jsonschema.Draft202012Validator.check_schema(json.loads((SCHEMA_DIR / name).read_bytes()))


def test_every_release_is_frozen_byte_for_byte():
    releases = {p.name for p in RELEASES_DIR.iterdir() if p.is_dir()}
    assert releases == set(FROZEN), "a release directory without digests here (or vice versa)"
    for version, files in FROZEN.items():
        directory = RELEASES_DIR / version
        assert {p.name for p in directory.iterdir()} == set(files), version
        for name, digest in files.items():
            actual = hashlib.sha256((directory / name).read_bytes()).hexdigest()
            assert actual == digest, f"releases/{version}/{name} was edited; restore it"


# --- freezing --------------------------------------------------------------------------------


def test_freeze_writes_a_release_and_refuses_to_overwrite_it(tmp_path):
    docs = json_schema.generate()
    target = json_schema.freeze(docs, tmp_path / "releases", "0.2")
    assert target == tmp_path / "releases" / "0.2"
    assert {p.name: p.read_bytes() for p in target.iterdir()} == docs
    (target / "event.json").write_bytes(b"{}")
    with pytest.raises(FileExistsError, match=r"release 0\.2 is already frozen"):
        json_schema.freeze(docs, tmp_path / "releases", "0.2")
    assert (target / "event.json").read_bytes() == b"{}"  # untouched
    assert [p.name for p in (tmp_path / "releases").iterdir()] == ["0.2"]  # no leftovers


@pytest.mark.parametrize("version", ["", "latest", "0.1-rc1", "../0.1", "0.1/x"])
def test_freeze_refuses_a_non_version(tmp_path, version):
    with pytest.raises(ValueError, match="not a release version"):
        json_schema.freeze({"a.json": b"{}"}, tmp_path, version)
    assert list(tmp_path.iterdir()) == []


def test_freeze_command_line(tmp_path, capsys):
    assert json_schema.main(["--dir", str(tmp_path)]) == 0
    assert json_schema.main(["--dir", str(tmp_path), "--freeze", "1.0"]) == 0
    assert "froze 3 files" in capsys.readouterr().out
    assert json_schema.main(["--dir", str(tmp_path), "--freeze", "1.0"]) == 1
    assert "already frozen" in capsys.readouterr().err


def test_freeze_command_refuses_stale_files(tmp_path, capsys):
    json_schema.main(["--dir", str(tmp_path)])
    (tmp_path / "message.json").write_bytes(b"{}")
    capsys.readouterr()
    assert json_schema.main(["--dir", str(tmp_path), "--freeze", "1.0"]) == 1
    assert "out of date: message.json" in capsys.readouterr().err
    assert not (tmp_path / "releases").exists()


# --- custom payload schemas ------------------------------------------------------------------


class Plan(msgspec.Struct, kw_only=True):
    steps: list[str]
    owner: str | None = None


def test_custom_schemas_are_generated_only_for_registrations():
    assert json_schema.generate_custom() == {}
    with schemas.custom_registration("acme.plan", Plan):
        docs = json_schema.generate_custom()
    assert list(docs) == ["acme.plan.json"]
    doc = json.loads(docs["acme.plan.json"])
    assert doc["title"] == "acme.plan payload"
    jsonschema.Draft202012Validator(doc).validate({"steps": ["a"], "owner": None})
    # and never into our own schema directory
    assert not (SCHEMA_DIR / "acme.plan.json").exists()


def test_custom_command_line_writes_checks_and_freezes(tmp_path, monkeypatch, capsys):
    module = tmp_path / "tmp_events.py"
    module.write_text(
        textwrap.dedent(
            """
            import msgspec, schemas

            class Plan(msgspec.Struct):
                steps: list[str]

            schemas.register_custom("acme.plan", Plan)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "schemas"
    try:
        assert json_schema.main(["--custom", "tmp_events", "--check", "--dir", str(out)]) == 1
        assert json_schema.main(["--custom", "tmp_events", "--dir", str(out)]) == 0
        assert [p.name for p in out.iterdir()] == ["acme.plan.json"]
        assert json_schema.main(["--custom", "tmp_events", "--check", "--dir", str(out)]) == 0
        assert json_schema.main(["--custom", "tmp_events", "--dir", str(out), "--freeze", "1"]) == 0
        assert (out / "releases" / "1" / "acme.plan.json").is_file()
    finally:
        schemas.unregister_custom("acme.plan")
    capsys.readouterr()


def test_custom_command_line_needs_a_directory(capsys):
    with pytest.raises(SystemExit):
        json_schema.main(["--custom", "json"])
    assert "--custom needs --dir" in capsys.readouterr().err


def test_custom_command_line_with_nothing_registered(tmp_path, capsys):
    assert json_schema.main(["--custom", "json", "--dir", str(tmp_path)]) == 1
    assert "no custom payload types found in json" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_here", "No module named 'no_such_module_here'"),
        ("json:NOPE", "has no attribute 'NOPE'"),
        ("json:dumps", "json:dumps is not a mapping of event types to msgspec.Struct types"),
    ],
)
def test_custom_command_line_reports_bad_specs(tmp_path, capsys, spec, message):
    assert json_schema.main(["--custom", spec, "--dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_custom_command_line_takes_a_mapping_without_registering(tmp_path, monkeypatch):
    (tmp_path / "acme_payloads.py").write_text(
        "import msgspec\n"
        "class Plan(msgspec.Struct):\n    steps: list[str]\n"
        "PAYLOADS = {'acme.plan': Plan}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "schemas"
    assert json_schema.main(["--custom", "acme_payloads:PAYLOADS", "--dir", str(out)]) == 0
    assert [p.name for p in out.iterdir()] == ["acme.plan.json"]
    assert schemas.custom_payload_types() == {}


def test_package_data_includes_release_snapshots():
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert '"json/**/*.json"' in pyproject
