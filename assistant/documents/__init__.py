"""Documents a member uploads: kept, indexed into passages, searched, cited by file and page."""
