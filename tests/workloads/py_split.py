# A Python workload with a designed split (tests/e2e/python_split.sh): two threads run the same loop,
# each round spends 6, 3 and 1 ms of the thread's CPU time in work_a, work_b and work_c (60/30/10:
# CPU time, which is what the samples measure; wall-clock time would count the waits for the GIL);
# work_c's time goes into hashlib (a C extension, data small enough that it keeps the GIL).
import hashlib
import sys
import threading
import time

DATA = b"x" * 1024


def work_a(until):
    n = 0
    while time.thread_time() < until:
        n += 1
    return n


def work_b(until):
    n = 0
    while time.thread_time() < until:
        n += 1
    return n


def work_c(until):
    n = 0
    while time.thread_time() < until:
        n += len(hashlib.sha256(DATA).digest())
    return n


def dispatch():
    t = time.thread_time()
    work_a(t + 0.006)
    work_b(t + 0.009)
    work_c(t + 0.010)


def run_loop(end):
    while True:
        t = time.perf_counter()
        if t >= end:
            break
        dispatch()


def main(seconds):
    end = time.perf_counter() + seconds
    worker = threading.Thread(target=run_loop, args=(end,), name="worker")
    worker.start()
    run_loop(end)
    worker.join()


main(float(sys.argv[1]) if len(sys.argv) > 1 else 4.0)
