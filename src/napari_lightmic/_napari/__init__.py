"""napari adapters: the reader, sample data and helpers. Only these modules import napari."""
