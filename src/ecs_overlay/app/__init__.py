"""The application layer: one module per command, each a request in and a result out.

``cli.py`` parses the options into a request, calls the command's ``run``, hands the result to a reporter or
writer and exits with ``result.exit_code``. Nothing here imports click or prints: what a command says while it
runs goes through the ``Console`` it is given (app/environment.py). This package imports none of its modules, so
that ``render`` loads only what render needs.
"""
