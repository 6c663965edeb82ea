"""Polling with a deadline: the one wait_for of the tests."""
import time


class Failure(AssertionError):
    """A test's expectation not met: a timeout, a command that failed. An AssertionError,
    so that `except AssertionError` and the test runners report it the same way."""


def wait_for(what, predicate, timeout, interval=0.2):
    """Calls predicate() every `interval` seconds until it returns a true value, which is
    returned; raises Failure naming `what` and the last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout:g}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def waiter(timeout, interval=0.2):
    """A wait_for with the defaults of one test file: waiter(20, 0.1)(what, predicate)."""
    def wait(what, predicate, timeout=timeout, interval=interval):
        return wait_for(what, predicate, timeout, interval)
    return wait
