"""Grading a class on a Slurm cluster: one job array of ``kit grade --shard i/N`` tasks, then a
merge job that runs once every shard has ended and either writes the class's reports or names
exactly what is missing (docs/GRADING.md, "On a Slurm cluster")."""
