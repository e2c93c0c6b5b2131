"""A throwaway scale-out stack on this machine, for trying ImageSim and testing it: never
part of a deployment (not an installed app).

- ``stack``: PostgreSQL with pgvector, Redis and an S3 endpoint, each started in a
  temporary folder and stopped again;
- ``cluster``: web processes and feature workers over them;
- ``run_stack``: all of it until Ctrl+C (bin/stack).

Used by bin/stack, tests/with_stack.py, the stack tests and the benchmarks.
"""
