"""bench/run.py's load generator: HTTP requests at a fixed concurrency, to
each (path, headers) of a list in turn (the connections share one place in
it), so that many people can read many pages in one measurement; a list of
one is one person asking one page again and again, as `hey` would.

Reads a JSON job on stdin, prints JSON results. Plain http.client, a new
connection per request (gunicorn's sync workers close each one after the
answer, as they would for `hey`), the whole body read. The connections are
threads spread over a few processes, so that the client's own interpreter
lock does not add to the latencies it measures.

Job: {"host", "port", "requests": [[path, {header: value}], ...],
      "method" ("GET"), "body" (for POST), "ok" ([200]), "connections",
      and either "duration" (seconds) or "count" (requests in all)}
Result: {"seconds", "requests", "rps", "p50", "p95", "p99" (ms), "errors",
         "statuses" ({code: n}, 0 for no answer), "used" (indices drawn)}
"""

import http.client
import json
import multiprocessing
import sys
import threading
import time

THREADS_PER_PROCESS = 5
TIMEOUT = 60  # seconds: longer than gunicorn's worker timeout (30)


def one_request(job, path, headers):
    connection = http.client.HTTPConnection(job["host"], job["port"], timeout=TIMEOUT)
    try:
        body = job.get("body")
        connection.request(
            job.get("method", "GET"),
            path,
            body=body.encode() if body is not None else None,
            headers=headers,
        )
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        connection.close()


def worker(job, turn, deadline, quota, out):
    """One connection: request after request until the deadline (or its
    quota of requests); appends (finished at, latency s, status, index)."""
    requests = job["requests"]
    done = 0
    while True:
        if deadline is not None and time.time() >= deadline:
            break
        if quota is not None and done >= quota:
            break
        with turn.get_lock():
            index = turn.value % len(requests)
            turn.value += 1
        path, headers = requests[index]
        started = time.perf_counter()
        status = one_request(job, path, headers)
        out.append((time.time(), time.perf_counter() - started, status, index))
        done += 1


def process(job, turn, threads, started, quotas, queue):
    deadline = started + job["duration"] if job.get("duration") else None
    time.sleep(max(0, started - time.time()))
    outs = [[] for _ in range(threads)]
    running = [
        threading.Thread(target=worker, args=(job, turn, deadline, quotas[n], outs[n]))
        for n in range(threads)
    ]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    queue.put([row for out in outs for row in out])


def run(job):
    connections = job["connections"]
    count = job.get("count")
    quotas = None
    if count is not None:
        quotas = [count // connections + (n < count % connections) for n in range(connections)]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    turn = context.Value("q", 0)
    processes = []
    started = time.time() + 0.2  # every process starts its clock together
    for first in range(0, connections, THREADS_PER_PROCESS):
        threads = min(THREADS_PER_PROCESS, connections - first)
        mine = quotas[first : first + threads] if quotas else [None] * threads
        child = context.Process(target=process, args=(job, turn, threads, started, mine, queue))
        processes.append(child)
    for child in processes:
        child.start()
    rows = [row for _ in processes for row in queue.get()]
    for child in processes:
        child.join()
    return summary(rows, started, set(job.get("ok", [200])))


def summary(rows, started, ok):
    if not rows:
        return {"seconds": 0, "requests": 0, "rps": 0, "errors": 0, "statuses": {}, "used": []}
    seconds = max(finished for finished, *_ in rows) - started
    latencies = sorted(latency * 1000 for _, latency, _, _ in rows)
    statuses = {}
    for _, _, status, _ in rows:
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    def percentile(p):  # nearest rank
        return latencies[min(len(latencies) - 1, max(0, round(p / 100 * len(latencies)) - 1))]

    return {
        "seconds": seconds,
        "requests": len(rows),
        "rps": len(rows) / seconds if seconds > 0 else 0,
        "p50": percentile(50),
        "p95": percentile(95),
        "p99": percentile(99),
        "errors": sum(n for code, n in statuses.items() if int(code) not in ok),
        "statuses": statuses,
        "used": sorted({index for *_, index in rows}),
    }


if __name__ == "__main__":
    print(json.dumps(run(json.load(sys.stdin))))
