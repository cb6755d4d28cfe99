"""Small notebook transforms, one job each (nbgrader-preprocessor style): starters and graded copies."""
