"""Run the simulator as `python3 -m rktsim` or as a zipapp."""

import sys

from rktsim.cli import main


if __name__ == "__main__":
    sys.exit(main())
