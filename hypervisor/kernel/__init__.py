"""hvlab's shared kernel: containers run as processes on it (see docs/containers.md)."""
