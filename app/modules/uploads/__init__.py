"""Uploads shared by the modules that hold files (boards, later mobility evidence).

The type of a file is decided by its content; images are re-encoded without their metadata;
files are stored behind a small storage interface and served only through a route that asks
the owning module whether the reader may see them.
"""
