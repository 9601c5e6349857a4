"""Under gevent, a SQLite write's COMMIT waits for the disk without stopping the other greenlets.

The COMMIT (a sync of the write-ahead log) waits inside C; on the event loop that stood the
whole server still for its length, every socket with it (a fifth of the busy time at chat
saturation). Here a COMMIT is made slow on purpose (SQLite's trace callback, which runs in
the thread that runs the statement, sleeps in it) and a greenlet ticks meanwhile.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
from gevent import monkey

monkey.patch_all()

import json
import sys
import time

import gevent
from sqlalchemy import event, text

from app import create_app
from app.extensions import db

real_sleep = monkey.get_original("time", "sleep")
real_thread = monkey.get_original("_thread", "get_ident")
SLOW_COMMIT_SECONDS = 0.4
app = create_app(environ={"DATABASE_URL": sys.argv[1], "SECRET_KEY": "t" * 40})
commits = []

with app.app_context():
    engine = db.engine

    @event.listens_for(engine, "connect")
    def _slow_commits(dbapi_connection, _record):
        def trace(statement):
            if statement.strip().upper() == "COMMIT":
                commits.append(real_thread())
                real_sleep(SLOW_COMMIT_SECONDS)  # blocks whichever thread runs the COMMIT

        dbapi_connection.set_trace_callback(trace)

    db.session.execute(text("CREATE TABLE IF NOT EXISTS note (body TEXT)"))
    db.session.commit()
    commits.clear()

    ticks = []

    def tick():
        while True:
            ticks.append(time.monotonic())
            gevent.sleep(0.01)

    ticker = gevent.spawn(tick)
    gevent.sleep(0.05)
    db.session.execute(text("INSERT INTO note (body) VALUES ('hello')"))
    started = time.monotonic()
    db.session.commit()
    ended = time.monotonic()
    during = sum(1 for moment in ticks if started < moment < ended)
    # A transaction that only read has no COMMIT to run: it stays on the loop.
    db.session.execute(text("SELECT count(*) FROM note")).scalar()
    db.session.commit()
    saved = db.session.execute(text("SELECT count(*) FROM note")).scalar()
    ticker.kill()
    print(json.dumps({
        "commit_seconds": ended - started,
        "ticks_during_commit": during,
        "commits": len(commits),
        "commit_off_main_thread": bool(commits) and all(ident != real_thread() for ident in commits),
        "saved": saved,
    }))
"""


def test_a_slow_commit_lets_other_greenlets_run(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'commit.db'}"
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, database_url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome["saved"] == 1
    assert outcome["commit_seconds"] >= 0.4  # the COMMIT was slow, and waited for
    # Every 10 ms for 400 ms: some 40 ticks; on the event loop there were none.
    assert outcome["ticks_during_commit"] >= 10, outcome
    assert outcome["commits"] == 1, outcome  # the read-only transaction ran no COMMIT
    assert outcome["commit_off_main_thread"], outcome
