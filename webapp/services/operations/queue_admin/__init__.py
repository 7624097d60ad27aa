"""RQ as the admin queues page shows it: counts per queue, workers, failures grouped by error; requeues.

A failed registry can hold ~200k jobs (rq-dashboard #396), so jobs are read in pipelined batches of
BATCH: never one Redis round trip per job.
"""

BATCH = 200
