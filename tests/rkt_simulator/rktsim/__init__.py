"""Simulator of the rkt 1.30.0 command line for tests (standard library only).

Entry point: `rktsim.cli.main()`; `python3 -m rktsim` and the `rkt` launcher
next to this package call it.
"""
