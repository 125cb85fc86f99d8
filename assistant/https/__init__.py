"""HTTPS on the home network: the household certificate authority, the server certificate, the
installable app (web manifest, service worker) and the "Connect a phone" page.

Standard library and `cryptography` only at import time: the web path and `manage.py serve` both use it.
"""
