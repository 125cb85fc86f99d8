"""Turning an uploaded file into searchable passages: detect → extract → chunk → embed → store.

Each step is a small module with no Django state of its own; assistant.services.documents ties them
together into the upload, the indexing job, deletion and search.
"""
