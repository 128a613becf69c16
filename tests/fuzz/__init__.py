"""A seeded mutation fuzzer over every family of files napari-lightmic reads (see run.py)."""
