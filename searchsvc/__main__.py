"""``python -m searchsvc``: the same as the ``searchsvc`` command."""

from searchsvc.cli import main

if __name__ == "__main__":
    main(prog_name="searchsvc")
