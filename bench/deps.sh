#!/bin/sh
# What bench/run needs beyond the build and tests: gnuplot for the charts
# (qemu-system-x86 and python3 are in scripts/deps.sh's list already).
# Idempotent, silent when all is there.
exec sh "$(dirname "$0")/../scripts/deps.sh" gnuplot-nox
