"""Turning an uploaded file into searchable passages: detect → extract → chunk → embed → store.

Each step is a small module with no Django state of its own; assistant.documents.indexing ties them
together into the indexing job, and assistant.documents.search reads them back.
"""
