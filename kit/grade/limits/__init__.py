"""Per-submission aggregate limits: what one submission may consume, whatever it starts.

One interface (:class:`kit.grade.limits.backends.Backend`) with four implementations, chosen in
this order: cgroup v2 and cgroup v1 (the grader is root), a systemd user scope (an unprivileged
instructor on a cgroup-v2 machine), and rlimits set for a dedicated uid (everywhere else). The
per-submission :class:`kit.grade.limits.box.Box` ties a backend to the submission's disk
(a size- and inode-capped tmpfs when the grader may mount), its uid slot and its verdict.
"""
