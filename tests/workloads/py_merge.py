# Python stacks whose merge with the native stack has to be right (tests/e2e/python_merge.sh):
# recursion, a generator, a Python -> C -> Python callback (sorted's key), and, with "late", a thread
# started a while after the recording attached.
import sys
import threading
import time


def recurse(depth, until):
    if depth > 0:
        return recurse(depth - 1, until)
    n = 0
    while time.perf_counter() < until:
        n += 1
    return n


def numbers(until):
    while time.perf_counter() < until:
        yield 1


def consume(until):
    return sum(numbers(until))


def sort_key(x):
    n = 0
    for i in range(50):
        n += i
    return -x


def sort_with_callback(until):
    while time.perf_counter() < until:
        sorted(range(200), key=sort_key)


def late_thread_body(until):
    n = 0
    while time.perf_counter() < until:
        n += 1


def rounds(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        recurse(12, t + 0.004)
        consume(t + 0.008)
        sort_with_callback(t + 0.012)


if len(sys.argv) > 1 and sys.argv[1] == "late":
    # Idle first, so that the recording is attached before the thread exists.
    time.sleep(float(sys.argv[2]))
    th = threading.Thread(target=late_thread_body, args=(time.perf_counter() + float(sys.argv[3]),))
    th.start()
    th.join()
else:
    rounds(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
