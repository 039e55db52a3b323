"""Counting a corpus shard by shard: serially, on forked processes or on a Dask cluster, resuming saved shards."""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from smi import corpus_io, matchers
from smi.errors import ParameterValueError, SmiError, check_scalar
from smi.formats import Facts, as_facts, check_names

if TYPE_CHECKING:  # pandas is imported only where a function needs it, to keep `smi count` quick to start
    import pandas as pd
from smi.counting.scan import Counts, FactStrings, count_columns, fact_strings, note, prepared_scan
from smi.counting.shards import (
    CountSettings,
    ShardResult,
    count_shard,
    counting_code_version,
    prepare_work_dir,
    reuse_shard_result,
    save_shard_result,
    shard_key,
    shard_result_path,
    work_dir_in_use,
)
from smi.hashing import json_sha256


def _run_serially(shards, strings, settings, on_done) -> None:
    for shard in shards:
        on_done(shard, count_shard(shard, strings, settings))


#: What forked pool processes count with: set in the parent just before the fork.
_FORKED_JOB: tuple[FactStrings, CountSettings] | None = None
#: Linux's prctl option asking the kernel to send a signal when the parent exits.
_PR_SET_PDEATHSIG = 1


def _count_shard_in_fork(shard: corpus_io.Shard) -> ShardResult:
    strings, settings = _FORKED_JOB
    return count_shard(shard, strings, settings)


def _set_parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent exits; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _exit_when_orphaned(parent_pid: int) -> None:
    """Poll (where the kernel cannot signal) and end this process once its parent is gone."""
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)


def _start_forked_child(parent_pid: int) -> None:
    """Pool initializer: die with the parent, and leave Ctrl-C to the parent (which stops the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _set_parent_death_signal():
        threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the death signal was set
        os._exit(1)


def _stop_pool(pool) -> None:
    """Stop a process pool at once: cancel what has not started and kill its processes."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # private, but stable since Python 3.2
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.kill()
        except (OSError, ValueError, AttributeError):
            pass
    for process in processes:
        try:
            process.join(5)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass


def _death_of(processes: list) -> str:
    """How the dead processes of a pool ended, e.g. ``killed by SIGKILL``."""
    endings = []
    for process in processes:
        code = process.exitcode
        if code is None or code == 0:
            continue
        if code < 0:
            try:
                endings.append(f"killed by {signal.Signals(-code).name}")
            except ValueError:
                endings.append(f"killed by signal {-code}")
        else:
            endings.append(f"exit status {code}")
    # the pool itself ends the other processes with SIGTERM once one has died
    first_causes = [ending for ending in endings if ending != "killed by SIGTERM"]
    return ", ".join(sorted(set(first_causes or endings))) or "ended abruptly"


def _run_on_processes(shards, strings, settings, on_done, processes: int, work_dir: Path) -> None:
    """Count shards on ``processes`` forked local processes (no cluster to start).

    The matcher is built once in this process before the fork, so every child
    inherits it instead of building its own. Children die with this process (see
    :func:`_start_forked_child`); a child that dies is reported as one
    :class:`SmiError`, the shards finished before it staying saved. Where ``fork``
    is unavailable the shards are counted serially.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    global _FORKED_JOB
    if processes == 1 or len(shards) == 1 or "fork" not in multiprocessing.get_all_start_methods():
        _run_serially(shards, strings, settings, on_done)
        return
    prepared_scan(strings, settings.match, settings.engine)  # built here once, inherited by the children
    _FORKED_JOB = (strings, settings)
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        min(processes, len(shards)), context, initializer=_start_forked_child, initargs=(os.getpid(),)
    )
    finished = False
    try:
        futures = {pool.submit(_count_shard_in_fork, shard): shard for shard in shards}
        children = list((getattr(pool, "_processes", None) or {}).values())
        for future in as_completed(futures):
            try:
                result = future.result()
            except BrokenProcessPool:
                for child in children:
                    child.join(1)
                raise SmiError(
                    f"a counting process died ({_death_of(children)}); "
                    f"the shards finished before are saved in {work_dir}: "
                    "rerun the same command to resume"
                ) from None
            on_done(futures[future], result)
        finished = True
    finally:
        _FORKED_JOB = None
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop_pool(pool)


#: Seconds between checks that a Dask cluster still has workers, and how long it may have none.
_DASK_POLL_SECONDS = 2.0
_DASK_NO_WORKER_SECONDS = 60.0


def check_scheduler_address(address: str) -> str:
    """Refuse a malformed Dask scheduler address before any work (it must read like ``tcp://host:8786``)."""
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        registry.get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            host, port = parse_host_port(location)
            if not host or not 0 < port < 65536:
                raise ValueError(f"no host, or port {port} out of range")
    except (ValueError, TypeError) as error:
        raise ParameterValueError(
            "scheduler", f"{address}: not a Dask scheduler address such as tcp://host:8786 ({error})"
        ) from None
    return address


def _is_cluster_loss(error: BaseException) -> bool:
    """Whether an exception from Dask means the cluster, not the work, failed (workers or scheduler gone)."""
    from concurrent.futures import CancelledError

    from distributed.scheduler import KilledWorker

    return isinstance(error, (OSError, CancelledError, KilledWorker, TimeoutError))


def _run_on_dask(
    shards, strings, settings, on_done, workers: int | None, scheduler: str | None, work_dir: Path
) -> None:
    """Count shards on a Dask cluster: a new local one with ``workers`` processes, or the one at ``scheduler``.

    The loss of every worker (none for :data:`_DASK_NO_WORKER_SECONDS`), of the
    scheduler, or of a task's workers too often (Dask's KilledWorker) ends the run
    with one :class:`SmiError`; the shards finished before stay saved.
    """
    import logging

    from distributed import Client, LocalCluster, wait

    where = scheduler or "(local cluster)"
    cluster = client = None
    # a lost cluster is reported below in one line, not by the tracebacks Dask's client logs
    dask_logs = [
        logging.getLogger(name)
        for name in ["distributed", *logging.root.manager.loggerDict]
        if name.startswith("distributed")
    ]
    log_levels = [log.level for log in dask_logs]
    for log in dask_logs:
        log.setLevel(logging.CRITICAL)
    try:
        try:
            if scheduler:
                client = Client(check_scheduler_address(scheduler), timeout="30s")
            else:
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                client = Client(cluster)
        except (OSError, ValueError, TypeError) as error:
            raise SmiError(f"cannot reach the Dask scheduler {where}: {error}") from None
        try:
            client.wait_for_workers(1, timeout=_DASK_NO_WORKER_SECONDS)
        except (TimeoutError, OSError):
            raise SmiError(
                f"the Dask scheduler {where} has no workers (waited {_DASK_NO_WORKER_SECONDS:.0f} s)"
            ) from None
        shared_strings = client.scatter(strings, broadcast=True)
        futures = {client.submit(count_shard, shard, shared_strings, settings, pure=False): shard for shard in shards}
        remaining, alone_since = set(futures), None
        while remaining:
            done, remaining = wait(remaining, timeout=_DASK_POLL_SECONDS, return_when="FIRST_COMPLETED")
            for future in done:
                on_done(futures[future], future.result())
            if done or client.nthreads():
                alone_since = None
            elif alone_since is None:
                alone_since = time.monotonic()
            elif time.monotonic() - alone_since > _DASK_NO_WORKER_SECONDS:
                raise TimeoutError(f"no worker left for {_DASK_NO_WORKER_SECONDS:.0f} s")
    except SmiError:
        raise
    except Exception as error:
        if not _is_cluster_loss(error):
            raise
        detail = " ".join(str(error).split())
        detail = detail if len(detail) <= 160 else detail[:157] + "..."
        raise SmiError(
            f"lost the Dask cluster {where} ({type(error).__name__}: {detail or 'no detail'}); "
            f"the shards finished before are saved in {work_dir}: rerun the same command to resume"
        ) from None
    finally:
        _close_quietly(client, cluster)
        for log, level in zip(dask_logs, log_levels):
            log.setLevel(level)


def _close_quietly(*closables) -> None:
    """Close a Dask client and cluster, ignoring errors of a cluster that is already gone."""
    for closable in closables:
        if closable is None:
            continue
        try:
            closable.close()
        except Exception:  # a scheduler that died cannot be told goodbye
            pass


# ---------------------------------------------------------------------------
# counting a corpus


@dataclass
class CountRun:
    """The outcome of :func:`count_corpus`: the facts, their count columns and what went into them."""

    facts: Facts
    counts: dict[str, np.ndarray]  # the columns of COUNT_FIELDS, one value per fact
    metadata: dict
    shard_files: list[Path] = field(default_factory=list)  # the work folder's files this run used (shards, database)

    def columns(self) -> dict[str, list]:
        """Every output column (idx, subj, rel, obj, time_seqs, …, time_s0j0) as a list."""
        return {**self.facts.columns(), **{name: values.tolist() for name, values in self.counts.items()}}

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        """The per-fact table as a DataFrame (built on first access)."""
        import pandas as pd

        return pd.DataFrame({**self.facts.columns(), **self.counts})


class _SilentBar:
    """What :func:`count_corpus` calls on a progress bar, doing nothing (no tqdm import needed)."""

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, progress: bool | None):
    """A tqdm bar over ``total`` shards; ``progress=None`` shows it only on a terminal, ``False`` never."""
    if progress is False:
        return _SilentBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="shard", desc="counting", disable=None if progress is None else not progress)


def choose_engine(settings: CountSettings, strings: FactStrings, shards: list[corpus_io.Shard], work_dir: Path) -> str:
    """The engine of this run (``settings.engine`` with ``auto`` resolved, with a note when Hyperscan is missing).

    ``auto`` weighs the corpus's size (its files' bytes) against compiling a Hyperscan
    database, unless one is cached in ``work_dir`` (:func:`smi.matchers.resolve_engine`).
    """
    n_names = len(strings.strings)
    corpus_bytes = sum((shard.size if shard.stop is None else shard.stop) - shard.start for shard in shards)
    cached = (
        settings.engine == "auto"
        and n_names <= matchers.HYPERSCAN_MAX_NAMES
        and corpus_bytes < matchers.HYPERSCAN_MIN_BYTES_PER_NAME * n_names
        and matchers.hyperscan_cached_path(strings.strings, settings.match, work_dir) is not None
    )
    engine, engine_note = matchers.resolve_engine(settings.engine, n_names, corpus_bytes, cached)
    if engine_note:
        note(engine_note)
    return engine


def count_corpus(
    triples: Facts | pd.DataFrame,
    corpus: list[str | Path],
    work_dir: Path,
    settings: CountSettings = CountSettings(),
    workers: int | None = None,
    scheduler: str | None = None,
    shard_bytes: int = corpus_io.DEFAULT_SHARD_BYTES,
    progress: bool | None = None,
    processes: int = 1,
) -> CountRun:
    """Document counts of every fact over ``corpus``, resuming from finished shards in ``work_dir``.

    Each shard's partial counts are saved in ``work_dir`` under a key of everything
    that determines them (:func:`shard_key`: the engine's code, the names, the
    settings, the file's status and the byte range); a saved result is reused only
    when its key matches and it reads back sound, otherwise the shard is counted
    again (with a note when a file was unusable). Without ``workers``/``scheduler``
    the shards are counted by ``processes`` local processes (1: in this process);
    otherwise on a Dask cluster. The totals are sums of integer counts, so they do
    not depend on the order, the worker count or the engine (``settings.engine``:
    ``auto`` is resolved here once, with a note when Hyperscan is missing; a
    Hyperscan database is cached in ``work_dir``).
    """
    if workers is not None and scheduler is not None:
        raise SmiError("give either workers or scheduler, not both")  # the command line's flags exclude each other
    if workers is not None:
        check_scalar(workers, "workers", "integer", minimum=1)
    check_scalar(processes, "processes", "integer", minimum=1)
    if processes > 1 and (workers is not None or scheduler is not None):
        raise SmiError("give processes above 1 or a Dask cluster (workers, scheduler), not both")
    facts = as_facts(triples)
    if not facts.checked:  # facts built by hand or from a DataFrame, not by a reader
        check_names(facts, lambda row: f"facts row {row}")
    strings = fact_strings(facts)
    shards = corpus_io.plan_shards(corpus_io.expand_corpus(corpus), shard_bytes)
    work_dir = prepare_work_dir(work_dir, needed_bytes=8 * (len(strings.strings) + len(facts)) + 4096)
    engine = choose_engine(settings, strings, shards, work_dir)
    local_settings = dataclasses.replace(settings, engine=engine)  # Dask workers resolve "auto" themselves
    names_fingerprint = strings.fingerprint()
    keys = {shard: shard_key(shard, names_fingerprint, settings) for shard in shards}
    result_paths = {shard: shard_result_path(work_dir, keys[shard]) for shard in shards}

    total = Counts.zeros(strings)
    skip_logs: dict[corpus_io.Shard, corpus_io.SkipLog] = {}

    def take(shard: corpus_io.Shard, result: ShardResult) -> None:
        total.add(result.counts)
        skip_logs[shard] = result.skipped

    started = time.perf_counter()
    with work_dir_in_use(work_dir):
        pending = []
        for shard in shards:
            reused = reuse_shard_result(result_paths[shard], keys[shard], strings, shard.label)
            if reused is None:
                pending.append(shard)
            else:
                take(shard, reused)
        done = {"docs": 0, "bytes": 0}
        bar = _progress_bar(len(pending), progress)

        def on_done(shard: corpus_io.Shard, result: ShardResult) -> None:
            if result.code_version != counting_code_version():
                raise SmiError(
                    f"{shard.label} was counted by other counting code "
                    f"(version {result.code_version or 'unknown'}, here "
                    f"{counting_code_version()}): install the same smi and numpy on every Dask worker"
                )
            save_shard_result(result_paths[shard], result, keys[shard])
            take(shard, result)
            done["docs"] += result.counts.n_docs
            done["bytes"] += result.counts.n_bytes
            elapsed = max(time.perf_counter() - started, 1e-9)
            bar.set_postfix_str(
                f"{done['docs'] / elapsed:,.0f} docs/s, {done['bytes'] / elapsed / 1e6:.1f} MB/s", refresh=False
            )
            bar.update(1)

        # the database cached here by this run or an interrupted one, removed with the shard results
        database_files = (
            [matchers.hyperscan_cache_file(strings.strings, settings.match, work_dir)] if engine == "hyperscan" else []
        )
        if pending and workers is None and scheduler is None:
            prepared_scan(strings, local_settings.match, engine, cache_dir=work_dir)
        try:
            if pending and workers is None and scheduler is None:
                _run_on_processes(pending, strings, local_settings, on_done, processes, work_dir)
            elif pending:
                _run_on_dask(pending, strings, settings, on_done, workers, scheduler, work_dir)
        finally:
            bar.close()
    elapsed = time.perf_counter() - started

    skipped = corpus_io.SkipLog()
    for shard in shards:  # in corpus order, so the examples do not depend on which shard finished first
        skipped.merge(skip_logs[shard])
    if total.n_docs == 0:
        raise SmiError(f"empty corpus: no documents in {', '.join(str(spec) for spec in corpus)}")
    facts_hash = facts.sha256()
    count_key = {
        "code_version": counting_code_version(),
        "facts": facts_hash,
        "settings": settings.key(),
        "shards": [keys[shard] for shard in shards],
    }
    metadata = {
        "documents": total.n_docs,
        "text_bytes": total.n_bytes,
        "files": len({shard.path for shard in shards}),
        "shards": len(shards),
        "shards_counted": len(pending),
        "shards_reused": len(shards) - len(pending),
        "match": settings.match,
        "engine": matchers.engine_version(engine),
        "text_field": settings.text_field,
        "skipped_lines": skipped.count,
        "skipped_examples": skipped.examples,
        "seconds": round(elapsed, 3),
        "code_version": counting_code_version(),
        "facts_sha256": facts_hash,
        "count_key": json_sha256(count_key),
    }
    return CountRun(
        facts, count_columns(strings, total), metadata, [result_paths[shard] for shard in shards] + database_files
    )
