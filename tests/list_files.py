#!/usr/bin/env python3
"""Prints the files matching the glob patterns (relative to the folder given first), one per line, sorted."""
import glob
import os
import sys

os.chdir(sys.argv[1])
print("\n".join(sorted(f for pattern in sys.argv[2:] for f in glob.glob(pattern))))
