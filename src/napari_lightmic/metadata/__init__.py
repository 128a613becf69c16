"""Metadata: the OME model of a source, and (later) REMBI, EDAM, privacy and sidecars."""
