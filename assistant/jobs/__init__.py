"""Background work: the Job record, the job-kind registry, claiming, the runner and the Jobs page."""
