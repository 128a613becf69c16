"""What readers, writers and the napari adapters do with a scene.

Its axes, a plane's contrast, a thumbnail, the levels shown (strided where the file has no
pyramid).
"""
