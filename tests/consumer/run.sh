#!/bin/bash
# Runs the consumer program (its path is $1); it checks its own results.
set -euo pipefail
exec "$1"
