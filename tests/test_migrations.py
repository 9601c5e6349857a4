"""Migrations run through the real CLI, down and up again, without losing what users wrote."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from tests.conftest import ROOT, prepare_database

BEFORE_CHAT_FEATURES = "4045a78b0eac"  # the chat tables, before reactions and moderation
BEFORE_ISCED_CLASS_FIELD = "4faf24b1e79d"  # classes with a free-text vocational field only


def _flask_db(database_url: str, *args: str) -> None:
    environ = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "app:create_app", "SECRET_KEY": "x" * 40}
    subprocess.run([sys.executable, "-m", "flask", "db", *args], cwd=ROOT, env=environ, check=True, capture_output=True)


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _columns(path, table: str) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def test_rebuilding_a_table_on_sqlite_keeps_the_rows_that_reference_it(tmp_path):
    # The chat-features migration rebuilds `channel` on SQLite (a new channel kind means a new
    # CHECK); with foreign keys on, dropping the old table would cascade into every message.
    path = tmp_path / "migrate.db"
    url = f"sqlite:///{path}"
    prepare_database(url, seed=True)
    _flask_db(url, "downgrade", BEFORE_CHAT_FEATURES)
    with sqlite3.connect(path) as connection:
        teacher_id = connection.execute("SELECT teacher_id FROM school_class LIMIT 1").fetchone()[0]
        now = "2026-01-01 00:00:00"
        connection.execute(
            "INSERT INTO project (id, title, status, created_by_id, aims, languages, created_at)"
            " VALUES (1, 'Kept', 'active', ?, '', '[]', ?)",
            (teacher_id, now),
        )
        connection.execute(
            "INSERT INTO channel (id, project_id, kind, slug, name, is_locked, next_seq, created_at)"
            " VALUES (1, 1, 'project', 'project', 'Whole exchange', 0, 2, ?)",
            (now,),
        )
        connection.execute(
            "INSERT INTO message (id, channel_id, seq, client_id, author_id, body_source, body_html, created_at)"
            " VALUES (1, 1, 1, 'c1', ?, 'hello', '<p>hello</p>', ?)",
            (teacher_id, now),
        )
        connection.execute(
            "INSERT INTO channel_event (channel_id, seq, kind, message_id, actor_id, created_at)"
            " VALUES (1, 1, 'message', 1, ?, ?)",
            (teacher_id, now),
        )

    _flask_db(url, "upgrade")
    _flask_db(url, "downgrade", BEFORE_CHAT_FEATURES)
    _flask_db(url, "upgrade")

    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT body_source FROM message").fetchall() == [("hello",)]
        assert connection.execute("SELECT count(*) FROM channel_event").fetchone() == (1,)
        # The new channel kind is accepted, an unknown one is still refused by the database.
        connection.execute(
            "INSERT INTO channel (project_id, kind, slug, name, is_locked, next_seq, created_at)"
            " VALUES (1, 'direct', 'direct:1:2', 'x', 0, 1, '2026-01-01')"
        )
        try:
            connection.execute(
                "INSERT INTO channel (project_id, kind, slug, name, is_locked, next_seq, created_at)"
                " VALUES (1, 'gossip', 'g', 'x', 0, 1, '2026-01-01')"
            )
        except sqlite3.IntegrityError:
            pass
        else:
            raise AssertionError("an unknown channel kind was stored")
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []


def test_class_fields_written_as_text_get_their_isced_f_code_where_it_is_clear(tmp_path):
    path = tmp_path / "fields.db"
    url = f"sqlite:///{path}"
    prepare_database(url, seed=True)
    _flask_db(url, "downgrade", BEFORE_ISCED_CLASS_FIELD)
    with sqlite3.connect(path) as connection:
        school_id, teacher_id = connection.execute("SELECT school_id, teacher_id FROM school_class LIMIT 1").fetchone()
        # A class whose profile chose 1013 although its text says something else: the profile wins.
        profiled = connection.execute(
            "SELECT school_class.id FROM school_class JOIN class_profile ON class_profile.class_id = school_class.id"
            " WHERE class_profile.isced_code = '1013' LIMIT 1"
        ).fetchone()[0]
        connection.execute(
            "UPDATE school_class SET vocational_field = 'Cooking and catering' WHERE id = ?", (profiled,)
        )
        texts = {
            "exact": "Electricity and energy",
            "near": "electricity & energy",
            "code": "0716 cars",
            "other": "Kochen",
        }
        for key, text in texts.items():
            connection.execute(
                "INSERT INTO school_class (school_id, teacher_id, name, vocational_field, eqf_level, size, age_min,"
                " age_max, join_code, join_code_active, created_at) VALUES (?, ?, ?, ?, 4, 20, 16, 18, ?, 1, ?)",
                (school_id, teacher_id, key, text, f"MIG{key.upper()}", "2026-01-01 00:00:00"),
            )

    _flask_db(url, "upgrade")

    with sqlite3.connect(path) as connection:
        codes = dict(
            connection.execute("SELECT name, isced_code FROM school_class WHERE name IN (?, ?, ?, ?)", list(texts))
        )
        assert codes == {"exact": "0713", "near": "0713", "code": "0716", "other": None}
        assert connection.execute("SELECT isced_code FROM school_class WHERE id = ?", (profiled,)).fetchone() == (
            "1013",
        )
        # Texts are kept as written: the pages show "Kochen" until its teacher picks a field.
        assert connection.execute("SELECT vocational_field FROM school_class WHERE name = 'other'").fetchone() == (
            "Kochen",
        )
    _flask_db(url, "downgrade", BEFORE_ISCED_CLASS_FIELD)
    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(school_class)")]
        assert "isced_code" not in columns and "vocational_field" in columns


BEFORE_CODE_EXPIRY = "1550d65d8719"  # class codes that never expire, pupils in at once


def test_existing_class_codes_get_a_week_from_the_upgrade_and_need_approval(tmp_path):
    path = tmp_path / "codes.db"
    url = f"sqlite:///{path}"
    prepare_database(url, seed=True)
    _flask_db(url, "downgrade", BEFORE_CODE_EXPIRY)
    assert "join_code_expires_at" not in _columns(path, "school_class")
    with sqlite3.connect(path) as connection:
        classes = connection.execute("SELECT count(*) FROM school_class").fetchone()[0]

    before = datetime.now(UTC).replace(tzinfo=None)
    _flask_db(url, "upgrade")
    after = datetime.now(UTC).replace(tzinfo=None)

    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT join_code_expires_at, join_code_needs_approval FROM school_class").fetchall()
        assert len(rows) == classes > 0
        for expires_at, needs_approval in rows:
            expires_at = datetime.fromisoformat(expires_at)
            assert before + timedelta(days=7) - timedelta(seconds=1) <= expires_at <= after + timedelta(days=7)
            assert needs_approval == 1
        assert connection.execute("SELECT count(*) FROM class_join_request").fetchone() == (0,)
    _flask_db(url, "downgrade", BEFORE_CODE_EXPIRY)
    assert not {"join_code_expires_at", "join_code_needs_approval"} & _columns(path, "school_class")
    assert "class_join_request" not in _tables(path)


def test_the_upload_table_comes_and_goes_with_its_migration(tmp_path):
    path = tmp_path / "uploads.db"
    url = f"sqlite:///{path}"
    prepare_database(url, seed=True)
    assert "upload" in _tables(path)
    _flask_db(url, "downgrade", "5d0c4e2a9b17")
    assert "upload" not in _tables(path) and "school_class" in _tables(path)
    _flask_db(url, "upgrade")
    columns = _columns(path, "upload")
    assert {"token", "owner_kind", "project_id", "media_type", "storage_key", "thumbnail_key", "sha256"} <= columns


def test_the_board_tables_come_and_go_with_their_migration(tmp_path):
    path = tmp_path / "boards.db"
    url = f"sqlite:///{path}"
    prepare_database(url, seed=True)
    assert {"board", "board_column", "card"} <= _tables(path)
    _flask_db(url, "downgrade", "8a61f0c2d5e3")
    assert not {"board", "board_column", "card"} & _tables(path) and "upload" in _tables(path)
    _flask_db(url, "upgrade")
    columns = _columns(path, "card")
    assert {"column_id", "body_source", "body_html", "link_url", "upload_id", "position", "deleted_at"} <= columns
