"""The PDQ index a worker matches photos against: every bank entry's hashes, kept fresh from the database.

The index is threatexchange's flat FAISS index of PDQ hashes (`PDQFlatHashIndex`): a lookup compares
the query with every hash (~1 ms at a million, whatever the distance asked), and adding hashes
is an append, so a worker learns new entries without rebuilding. It only proposes candidates: the
database says which of them are enabled, in an enabled bank, and within that bank's distance, so
disabling an entry or a bank takes effect at the next lookup. Only additions must reach the index,
and they are found by revision (see `BankRevision`): each lookup reads the revision first and
loads whatever was added since.

A worker loads it before its first job; each job's process inherits it and adds what is newer.
"""

import logging
import time
import uuid
from functools import cache

from sqlalchemy import Connection, String, cast, select

from webapp.extensions import db
from webapp.models import BankEntry, BankRevision
from webapp.models.banks import MAX_DISTANCE, entry_hashes

log = logging.getLogger(__name__)
LOAD_CHUNK = 50_000


class BankIndex:
    """Every entry's hashes, as of one revision of the bank tables."""

    def __init__(self) -> None:
        self._index = None
        # The entry of each hash in the index, by its position: 16 bytes each (UUIDs as objects would
        # cost ~100 bytes each, 100 MiB at a million).
        self._entry_ids = bytearray()
        self.epoch: uuid.UUID | None = None
        self.revision = 0
        self.hashes = 0

    def refresh(self, connection: Connection) -> None:
        """Load the entries added since the revision held (all of them if the tables were recreated)."""
        state = connection.execute(select(BankRevision.epoch, BankRevision.revision)).first()
        epoch, revision = state if state else (None, 0)
        if epoch != self.epoch:
            self._reset(epoch)
        if revision > self.revision:
            started = time.perf_counter()
            added = self._load(connection, self.revision, revision)
            self.revision = revision
            log.info(
                "bank index: %d hashes added in %.2f s (revision %d, %d in all)",
                added,
                time.perf_counter() - started,
                revision,
                self.hashes,
            )

    def candidates(self, pdq_hash: str) -> dict[uuid.UUID, int]:
        """The entries with a hash within MAX_DISTANCE of this one, each with its smallest distance."""
        if not self.hashes:
            return {}
        found: dict[uuid.UUID, int] = {}
        matches = self._index.search_with_distance_in_result([pdq_hash], MAX_DISTANCE)[pdq_hash]
        for position, _, distance in matches:
            entry_id = uuid.UUID(bytes=bytes(self._entry_ids[position * 16 : position * 16 + 16]))
            found[entry_id] = min(int(distance), found.get(entry_id, MAX_DISTANCE + 1))
        return found

    def _reset(self, epoch: uuid.UUID | None) -> None:
        from threatexchange.signal_type.pdq.pdq_faiss_matcher import PDQFlatHashIndex

        self._index, self._entry_ids = PDQFlatHashIndex(), bytearray()
        self.epoch, self.revision, self.hashes = epoch, 0, 0

    def _load(self, connection: Connection, after: int, upto: int) -> int:
        # The id as text: turning a million of them into UUID objects would take most of the load.
        query = select(cast(BankEntry.id, String), BankEntry.pdq_hash, BankEntry.crop_hashes).where(
            BankEntry.revision > after, BankEntry.revision <= upto
        )
        added = 0
        # Per statement: options set on the connection would stay on a job's connection after it.
        result = connection.execute(query.execution_options(yield_per=LOAD_CHUNK))
        for rows in result.partitions():
            hashes = []
            for entry_id, pdq_hash, crop_hashes in rows:
                for each in entry_hashes(pdq_hash, crop_hashes):
                    hashes.append(each)
                    self._entry_ids += bytes.fromhex(entry_id.replace("-", ""))
            self._index.add(hashes, range(self.hashes, self.hashes + len(hashes)))
            self.hashes += len(hashes)
            added += len(hashes)
        return added


@cache
def _limit_faiss_to_one_thread() -> None:
    # A worker is one single-threaded process per core, and OpenMP's thread pool does not survive the
    # fork RQ makes per job: a pool started in the worker would hang its jobs.
    import faiss

    faiss.omp_set_num_threads(1)


_indexes: dict[str, BankIndex] = {}


def current(connection: Connection | None = None) -> BankIndex:
    """This process's index for the app's database, brought up to date over `connection` (a job's
    own, saving a checkout per lookup) or a connection of its own."""
    _limit_faiss_to_one_thread()
    index = _indexes.setdefault(str(db.engine.url), BankIndex())
    if connection is not None:
        index.refresh(connection)
    else:
        with db.engine.connect() as own:
            index.refresh(own)
    return index
