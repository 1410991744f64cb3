"""gunicorn's settings that belong with the code; the command line gives the rest.

gunicorn reads this file from the directory it starts in: the project's root, for
``scripts/run.sh``, the container and the benchmarks alike.
"""

import gc


def post_worker_init(worker) -> None:
    # The worker has loaded the app: its modules, settings and URL patterns live as long as
    # the worker does. Freezing them keeps Python's collector from walking them again at
    # every full collection, which a page of two hundred cards would otherwise set off.
    gc.freeze()
