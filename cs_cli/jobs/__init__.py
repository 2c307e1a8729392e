"""Scheduled jobs: the registry (name -> job and its schedule), leases (one
run of a job at a time), the run ledger (each schedule slot once) and the
runner that ties them together for `cs run` and cron."""
