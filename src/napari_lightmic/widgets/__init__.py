"""Dock widgets. Qt lives here and in _napari only."""
