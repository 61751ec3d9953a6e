"""Keep pyspark from exiting a process whose __main__ module has neither __spec__ nor __file__.

pyspark (the spark extra) takes such a __main__ for its own doctest runner: importing pyspark.sql.connect
then calls sys.exit(0) unless Spark Connect's gRPC packages are installed (pyspark/sql/connect/utils.py,
check_dependencies). Great Expectations imports pyspark.sql.connect whenever pyspark is installed, and the
processes that Dagster's multiprocess executor forks from its forkserver (started with `python -c`) and
pytest-xdist's workers have such a __main__: a step that imported GX ended silently (the Dagster UI's runs
failed with no step failure). A file name tells pyspark this is not its doctest runner.
"""

from __future__ import annotations

import sys


def name_main_module() -> None:
    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None and not hasattr(main, "__file__"):
        main.__file__ = "<clm>"
