"""The case runner of the Python integration tests: one ctest entry a case."""
import sys
import time


def run_cases(cases, setup, cleanup, names=None):
    """Runs the cases named on the command line (every case when none): each gets
    setup(name), its world, and cleanup(world, ok) after it, which may print its logs
    when it failed. Prints PASS or FAIL a case; exits 1 when any failed, else 0."""
    failed = False
    for name in names or sys.argv[1:] or list(cases):
        world = setup(name)
        ok = False
        started = time.monotonic()
        try:
            cases[name](world)
            ok = True
            print(f"PASS {name} ({time.monotonic() - started:.1f}s)")
        except Exception as error:  # every failure is reported, with the logs
            failed = True
            print(f"FAIL {name}: {error!r}")
        finally:
            cleanup(world, ok)
    sys.exit(1 if failed else 0)
