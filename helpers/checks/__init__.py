"""Self-checks that tell a learner, criterion by criterion, whether a blank is right."""
