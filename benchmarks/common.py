"""What the benchmarks share: timing an operation, and timing two of them interleaved."""

import time


def timed(operation):
    """(seconds, result) of one call of `operation`."""
    started = time.perf_counter()
    result = operation()
    return time.perf_counter() - started, result


def interleaved(a_operation, b_operation, pairs):
    """Time A and B in `pairs` pairs, A,B then B,A in turn, so that the machine's drift falls on both.

    Returns the pair ratios A/B, A's times, B's times, and the last result of each.
    """
    ratios, a_times, b_times = [], [], []
    a_result = b_result = None
    for pair in range(pairs):
        if pair % 2:
            b_time, b_result = timed(b_operation)
            a_time, a_result = timed(a_operation)
        else:
            a_time, a_result = timed(a_operation)
            b_time, b_result = timed(b_operation)
        ratios.append(a_time / b_time)
        a_times.append(a_time)
        b_times.append(b_time)
    return ratios, a_times, b_times, a_result, b_result
