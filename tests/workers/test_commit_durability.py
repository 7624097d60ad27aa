"""How far each process's SQLite commits wait for the disk: the web's fully, the workers' to the WAL."""

from sqlalchemy import create_engine, text

from webapp import commit_without_fsync

FULL, NORMAL = 2, 1


def synchronous(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("PRAGMA synchronous")).scalar_one()


def test_an_upload_is_committed_to_disk_and_a_workers_writes_to_the_wal(tmp_path):
    url = f"sqlite:///{tmp_path / 'photogate.db'}"
    web, worker = create_engine(url), create_engine(url)

    commit_without_fsync(worker)

    assert synchronous(web) == FULL
    assert synchronous(worker) == NORMAL
    with worker.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
